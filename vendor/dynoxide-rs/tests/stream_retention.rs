//! Stream records are found by an index and kept 24 hours, as DynamoDB keeps them: a write
//! to a table with a stream costs the same however many were written before it, and
//! GetRecords, DescribeStream and the shard iterators behave as they did.

use std::time::Duration;

use dynoxide::Database;
use dynoxide::storage::Storage;
use dynoxide::storage_backend::ManualClock;
use serde_json::json;

const TABLE: &str = "Retained";
const DAY: u64 = 24 * 60 * 60;

fn stream_table(db: &Database) -> (String, String) {
    db.create_table(
        serde_json::from_value(json!({
            "TableName": TABLE,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }))
        .unwrap(),
    )
    .unwrap();
    let arn = db
        .list_streams(serde_json::from_value(json!({"TableName": TABLE})).unwrap())
        .unwrap()
        .streams[0]
        .stream_arn
        .clone();
    let shard = describe(db, &arn).0;
    (arn, shard)
}

/// The shard's id and its first and last sequence numbers.
fn describe(db: &Database, arn: &str) -> (String, Option<String>, Option<String>) {
    let description = db
        .describe_stream(serde_json::from_value(json!({"StreamArn": arn})).unwrap())
        .unwrap()
        .stream_description;
    let shard = &description.shards[0];
    (
        shard.shard_id.clone(),
        shard.sequence_number_range.starting_sequence_number.clone(),
        shard.sequence_number_range.ending_sequence_number.clone(),
    )
}

fn put(db: &Database, pk: &str) {
    db.put_item(
        serde_json::from_value(json!({"TableName": TABLE, "Item": {"pk": {"S": pk}}})).unwrap(),
    )
    .unwrap();
}

/// Every record from the iterator `kind` (and `after`) on, page by page: (key, sequence number).
fn read(
    db: &Database,
    arn: &str,
    shard: &str,
    kind: &str,
    after: Option<&str>,
) -> Vec<(String, String)> {
    let mut request = json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind});
    if let Some(sequence) = after {
        request["SequenceNumber"] = json!(sequence);
    }
    let mut iterator = db
        .get_shard_iterator(serde_json::from_value(request).unwrap())
        .unwrap()
        .shard_iterator;
    let mut records = Vec::new();
    while let Some(current) = iterator {
        let page = db
            .get_records(serde_json::from_value(json!({"ShardIterator": current})).unwrap())
            .unwrap();
        if page.records.is_empty() {
            break;
        }
        for record in &page.records {
            let key = match record.dynamodb.keys.get("pk") {
                Some(dynoxide::AttributeValue::S(s)) => s.clone(),
                other => panic!("a record without its key: {other:?}"),
            };
            records.push((key, record.dynamodb.sequence_number.clone()));
        }
        iterator = page.next_shard_iterator;
    }
    records
}

#[test]
fn sequence_numbers_increase_and_get_records_returns_every_record_after_one() {
    let clock = ManualClock::new(1_764_579_600);
    let db = Database::memory_with_clock(clock.arc()).unwrap();
    let (arn, shard) = stream_table(&db);
    // More than a page (1,000), some written within the same microsecond.
    for i in 0..2_500 {
        if i % 3 == 0 {
            clock.tick(Duration::from_micros(1));
        }
        put(&db, &format!("item{i:05}"));
    }

    let all = read(&db, &arn, &shard, "TRIM_HORIZON", None);
    let keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    let expected: Vec<String> = (0..2_500).map(|i| format!("item{i:05}")).collect();
    assert_eq!(keys, expected, "every write, once, in order");
    for pair in all.windows(2) {
        let (a, b) = (&pair[0].1, &pair[1].1);
        assert!(
            a.len() == b.len() && a < b,
            "sequence numbers strictly increase: {a} then {b}"
        );
    }

    let after = &all[1_234].1;
    assert_eq!(
        read(&db, &arn, &shard, "AFTER_SEQUENCE_NUMBER", Some(after)),
        all[1_235..].to_vec()
    );
    assert_eq!(
        read(&db, &arn, &shard, "AT_SEQUENCE_NUMBER", Some(after)),
        all[1_234..].to_vec()
    );
    put(&db, "later");
    let latest = read(&db, &arn, &shard, "TRIM_HORIZON", None);
    assert_eq!(latest.len(), 2_501);
    assert!(latest[2_500].1 > all[2_499].1);
    let (_, first, last) = describe(&db, &arn);
    assert_eq!(first.as_ref(), Some(&all[0].1));
    assert_eq!(last.as_ref(), Some(&latest[2_500].1));
}

#[test]
fn records_older_than_24_hours_are_trimmed() {
    let clock = ManualClock::new(1_764_579_600);
    let db = Database::memory_with_clock(clock.arc()).unwrap();
    let (arn, shard) = stream_table(&db);
    for i in 0..10 {
        put(&db, &format!("old{i}"));
    }
    clock.tick(Duration::from_secs(DAY - 60));
    put(&db, "almost a day later");
    assert_eq!(
        read(&db, &arn, &shard, "TRIM_HORIZON", None).len(),
        11,
        "nothing is a day old yet"
    );

    clock.tick(Duration::from_secs(120));
    put(&db, "a day and a minute later");
    let kept: Vec<String> = read(&db, &arn, &shard, "TRIM_HORIZON", None)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(kept, ["almost a day later", "a day and a minute later"]);
    let (_, first, _) = describe(&db, &arn);
    assert_eq!(
        first,
        Some(read(&db, &arn, &shard, "TRIM_HORIZON", None)[0].1.clone()),
        "the shard starts at the oldest record kept"
    );

    // After a day without writes, the next sequence number is still above every earlier one.
    let before = read(&db, &arn, &shard, "TRIM_HORIZON", None)[1].1.clone();
    clock.tick(Duration::from_secs(2 * DAY));
    put(&db, "two days on");
    let now = read(&db, &arn, &shard, "TRIM_HORIZON", None);
    assert_eq!(now.len(), 1);
    assert!(now[0].1 > before);
}

/// The statements that read `_stream_records`, as storage.rs runs them, each planned on the
/// index (a SEARCH, not a SCAN): an expression index serves only the very same expression.
#[test]
fn the_stream_queries_use_the_index() {
    let storage = Storage::memory().unwrap();
    let conn = storage.conn();
    let plans: [(&str, usize); 4] = [
        (
            "SELECT COALESCE(MAX(CAST(sequence_number AS INTEGER)), 0) + 1 FROM _stream_records WHERE table_name = ?1",
            1,
        ),
        (
            "SELECT event_name, keys_json, new_image, old_image, sequence_number, created_at, user_identity, event_id
             FROM _stream_records
             WHERE table_name = ?1 AND shard_id = ?2 AND CAST(sequence_number AS INTEGER) > ?3
             ORDER BY CAST(sequence_number AS INTEGER) ASC
             LIMIT ?4",
            4,
        ),
        (
            "SELECT (SELECT MIN(CAST(sequence_number AS INTEGER)) FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2),
                    (SELECT MAX(CAST(sequence_number AS INTEGER)) FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2)",
            2,
        ),
        (
            "DELETE FROM _stream_records WHERE table_name = ?1 AND CAST(sequence_number AS INTEGER) < ?2 AND created_at < ?3",
            3,
        ),
    ];
    for (sql, parameters) in plans {
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        // The plan does not depend on the values.
        let values = rusqlite::params_from_iter(vec![0_i64; parameters]);
        let steps: Vec<String> = statement
            .query_map(values, |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let reads: Vec<&String> = steps
            .iter()
            .filter(|s| s.contains("_stream_records"))
            .collect();
        assert!(!reads.is_empty(), "{sql}: {steps:?}");
        for step in reads {
            assert!(
                step.starts_with("SEARCH") && step.contains("INDEX _stream_records_by_sequence"),
                "{sql}\nis planned as {step}"
            );
        }
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{sql}: sorted by the index, not afterwards: {steps:?}"
        );
    }
}
