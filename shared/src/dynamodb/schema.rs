//! The table's schema: keys, item kinds, attribute names, indexes. The one place they are
//! written; the store, the readers, `zcc local` and the tests use these names, and
//! template.yaml is checked against [`contract`], through its copy in
//! `shared/table-contract.json` that a test keeps equal (docs/src/using-the-data/table.md).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};

use zcc_domain::event::Subject;
use zcc_domain::timestamp::Timestamp;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const STATE_SK: &str = "STATE";
/// Event items' sort keys start with this: `EVENT#<occurred_at ISO>#<event_id>`.
pub const EVENT_SK_PREFIX: &str = "EVENT#";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// `engagement`, `agent` or `event`: what an item is.
pub const ENTITY: &str = "entity";
/// A state item's version, which guards every write of it.
pub const VERSION: &str = "version";
/// State attributes written as string sets.
pub const SETS: &[&str] = &["sources", "queues", "merged_events", "recent_events"];

/// The attributes of an event item besides its keys.
pub mod event_attr {
    pub const EVENT_ID: &str = "event_id";
    /// The event's name as sent.
    pub const EVENT: &str = "event";
    /// `webhook` or `flow`.
    pub const SOURCE: &str = "source";
    pub const OCCURRED_AT: &str = "occurred_at";
    pub const RECEIVED_AT: &str = "received_at";
    /// The exact body received, for audit and rebuild.
    pub const BODY: &str = "body";
    pub const ENGAGEMENT_ID: &str = "engagement_id";
    pub const USER_ID: &str = "user_id";
    /// Present when the event is kept raw because its merge was refused.
    pub const MERGE_ERROR: &str = "merge_error";
}

/// Engagements of an agent by time.
pub const AGENT_INDEX: &str = "by_agent";
/// Engagements of a queue by time.
pub const QUEUE_INDEX: &str = "by_queue";
/// Engagements of a UTC day by time.
pub const DAY_INDEX: &str = "by_day";
/// The day index's partition: an engagement's UTC day, `YYYY-MM-DD` of its first event.
pub const DAY: &str = "day";
/// The sort key of every index: present from an engagement's first event on.
pub const INDEX_SORT: &str = "first_event_at";

/// The indexes carry keys only (`KEYS_ONLY`): an index item is written when an engagement
/// gets its day, queue or agent, or its earliest event moves, not on every event as it would
/// if it carried attributes that change (status, times, figures). A listing reads the state
/// items it finds there (BatchGetItem), which reads cost a fifth of what writes do.
/// (index, partition attribute) for each index.
pub const INDEXES: [(&str, &str); 3] = [
    (AGENT_INDEX, "agent_user_id"),
    (QUEUE_INDEX, "queue_id"),
    (DAY_INDEX, DAY),
];

/// One global secondary index, as the table declares it (keys only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition: &'static str,
    pub sort: &'static str,
}

pub fn indexes() -> Vec<IndexSpec> {
    INDEXES
        .iter()
        .map(|(name, partition)| IndexSpec {
            name,
            partition,
            sort: INDEX_SORT,
        })
        .collect()
}

/// The table contract in CloudFormation's vocabulary, to check template.yaml against.
pub fn contract() -> serde_json::Value {
    let mut attributes: Vec<&str> = vec![PK, SK, INDEX_SORT];
    attributes.extend(INDEXES.iter().map(|(_, p)| *p));
    serde_json::json!({
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": attributes
            .iter()
            .map(|a| serde_json::json!({"AttributeName": a, "AttributeType": "S"}))
            .collect::<Vec<_>>(),
        "GlobalSecondaryIndexes": indexes()
            .iter()
            .map(|i| serde_json::json!({
                "IndexName": i.name,
                "KeySchema": [
                    {"AttributeName": i.partition, "KeyType": "HASH"},
                    {"AttributeName": i.sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }))
            .collect::<Vec<_>>(),
        "TimeToLiveAttribute": TTL_ATTRIBUTE,
        // The notifier reads every change with both images.
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    })
}

/// An engagement's partition key starts with this: `ENGAGEMENT#<engagement_id>`.
pub const ENGAGEMENT_PK_PREFIX: &str = "ENGAGEMENT#";
/// An agent's partition key starts with this: `AGENT#<user_id>`.
pub const AGENT_PK_PREFIX: &str = "AGENT#";

pub fn engagement_pk(id: &str) -> String {
    format!("{ENGAGEMENT_PK_PREFIX}{id}")
}

pub fn agent_pk(id: &str) -> String {
    format!("{AGENT_PK_PREFIX}{id}")
}

/// The engagement id of an engagement's partition key ([`engagement_pk`] undone).
pub fn engagement_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(ENGAGEMENT_PK_PREFIX)
}

/// The user id of an agent's partition key ([`agent_pk`] undone).
pub fn agent_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(AGENT_PK_PREFIX)
}

pub fn partition(subject: &Subject, occurred_at: Timestamp) -> String {
    match subject {
        Subject::Engagement(id) => engagement_pk(id.as_str()),
        Subject::Agent(id) => agent_pk(id.as_str()),
        Subject::Unrouted => format!("UNROUTED#{}", occurred_at.day()),
    }
}

pub fn event_sk(occurred_at: Timestamp, event_id: &str) -> String {
    format!("{EVENT_SK_PREFIX}{}#{event_id}", occurred_at.to_iso())
}

/// The condition of a write that must create its item.
pub fn create_only() -> String {
    format!("attribute_not_exists({PK})")
}

/// The key condition of a query for a partition's event items, with `:pk` and `:events`.
pub fn events_of_partition() -> String {
    format!("{PK} = :pk AND begins_with({SK}, :events)")
}

/// The filter of a scan for the state and event items of agents' partitions (and, unless
/// `agents_only`, engagements'), with `#pk` and `#sk` for [`PK`] and [`SK`] and the values
/// `:agents` ([`AGENT_PK_PREFIX`]), `:engagements` ([`ENGAGEMENT_PK_PREFIX`], unless
/// `agents_only`), `:state` ([`STATE_SK`]) and `:events` ([`EVENT_SK_PREFIX`]).
pub fn state_and_event_items(agents_only: bool) -> String {
    let partitions = if agents_only {
        "begins_with(#pk, :agents)"
    } else {
        "(begins_with(#pk, :engagements) OR begins_with(#pk, :agents))"
    };
    format!("{partitions} AND (#sk = :state OR begins_with(#sk, :events))")
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("name and type are set")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

/// Creates the table as template.yaml declares it. Returns false if it already existed.
pub async fn create(client: &Client, table: &str) -> Result<bool, aws_sdk_dynamodb::Error> {
    let mut request = client
        .create_table()
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("enabled is set"),
        )
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range))
        .attribute_definitions(string_attribute(PK))
        .attribute_definitions(string_attribute(SK))
        .attribute_definitions(string_attribute(INDEX_SORT));
    for index in indexes() {
        request = request
            .attribute_definitions(string_attribute(index.partition))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .key_schema(key(index.partition, KeyType::Hash))
                    .key_schema(key(index.sort, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .expect("name, keys and projection are set"),
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(err) => {
            let err = aws_sdk_dynamodb::Error::from(err);
            return match err {
                aws_sdk_dynamodb::Error::ResourceInUseException(_) => Ok(false),
                other => Err(other),
            };
        }
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .expect("name and flag are set"),
        )
        .send()
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn partition_keys_give_back_their_ids() {
        use super::*;
        assert_eq!(engagement_of_pk(&engagement_pk("e-1")), Some("e-1"));
        assert_eq!(agent_of_pk(&agent_pk("u-1")), Some("u-1"));
        assert_eq!(engagement_of_pk(&agent_pk("u-1")), None);
        assert_eq!(agent_of_pk("UNROUTED#2026-12-01"), None);
    }

    /// scripts/check-table-contract holds template.yaml against this file, so that linting
    /// compiles nothing; this keeps the file equal to the code.
    #[test]
    fn the_committed_contract_is_the_code_s() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/table-contract.json");
        if std::env::var_os("ZCC_WRITE_CONTRACT").is_some() {
            let text = serde_json::to_string_pretty(&super::contract()).expect("JSON");
            std::fs::write(path, text + "\n").expect("writable");
        }
        let committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path).expect("shared/table-contract.json"),
        )
        .expect("JSON");
        assert_eq!(
            committed,
            super::contract(),
            "shared/table-contract.json is stale: write it again with \
             ZCC_WRITE_CONTRACT=1 cargo test -p zcc-shared --lib the_committed_contract"
        );
    }
}
