//! The table's stream: each change of an item, with its image before and after, as
//! DynamoDB Streams reports it (to Lambda, or to a reader of the Streams API), and the
//! notifications a change of a state item makes.

use serde_json::{Map, Value};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_domain::notifications::{Notification, agent_changes, engagement_changes};

use super::attributes::from_dynamodb_image;
use super::schema::{AGENT_PK_PREFIX, ENGAGEMENT_PK_PREFIX, PK, SK, STATE_SK, VERSION};

/// A change that cannot be read: retrying it will not help (a poison record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stream record {sequence_number}: {reason}")]
pub struct BadChange {
    pub sequence_number: String,
    pub reason: String,
}

/// One change of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Orders the changes of one item; what a partial batch response names.
    pub sequence_number: String,
    pub pk: String,
    pub sk: String,
    /// The item before (absent for an insert) and after (absent for a removal), as plain JSON.
    pub old: Option<Map<String, Value>>,
    pub new: Option<Map<String, Value>>,
}

fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_owned)
}

impl Change {
    /// A record of a Lambda DynamoDB stream event:
    /// `{"eventName", "dynamodb": {"Keys", "OldImage", "NewImage", "SequenceNumber"}}`.
    pub fn from_lambda_record(record: &Value) -> Result<Self, BadChange> {
        let dynamodb = record.get("dynamodb").and_then(Value::as_object);
        let sequence_number = dynamodb
            .and_then(|d| d.get("SequenceNumber"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let bad = |reason: &str| BadChange {
            sequence_number: sequence_number.clone(),
            reason: reason.to_owned(),
        };
        let dynamodb = dynamodb.ok_or_else(|| bad("no `dynamodb` object"))?;
        if sequence_number.is_empty() {
            return Err(bad("no SequenceNumber"));
        }
        let image = |name: &str| {
            dynamodb
                .get(name)
                .and_then(Value::as_object)
                .map(from_dynamodb_image)
        };
        let keys = image("Keys").ok_or_else(|| bad("no Keys"))?;
        let (Some(pk), Some(sk)) = (text(&keys, PK), text(&keys, SK)) else {
            return Err(bad("the keys are not this table's"));
        };
        Ok(Self {
            sequence_number: sequence_number.clone(),
            pk,
            sk,
            old: image("OldImage"),
            new: image("NewImage"),
        })
    }

    /// The record's key for ordering: all changes of one item share it.
    pub fn item(&self) -> (&str, &str) {
        (&self.pk, &self.sk)
    }

    /// What this change reports. Event items and removals report nothing.
    pub fn notifications(&self) -> Result<Vec<Notification>, BadChange> {
        let Some(new) = &self.new else {
            return Ok(Vec::new());
        };
        if self.sk != STATE_SK {
            return Ok(Vec::new());
        }
        let bad = |reason: String| BadChange {
            sequence_number: self.sequence_number.clone(),
            reason,
        };
        let version = new
            .get(VERSION)
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("the state item has no numeric `{VERSION}`")))?;
        fn decode<T: serde::de::DeserializeOwned>(image: &Map<String, Value>) -> Result<T, String> {
            serde_json::from_value(Value::Object(image.clone())).map_err(|e| e.to_string())
        }
        if self.pk.starts_with(ENGAGEMENT_PK_PREFIX) {
            let new: EngagementState = decode(new).map_err(bad)?;
            let old: Option<EngagementState> =
                self.old.as_ref().map(decode).transpose().map_err(bad)?;
            Ok(engagement_changes(old.as_ref(), &new, version))
        } else if self.pk.starts_with(AGENT_PK_PREFIX) {
            let new: AgentState = decode(new).map_err(bad)?;
            let old: Option<AgentState> = self.old.as_ref().map(decode).transpose().map_err(bad)?;
            Ok(agent_changes(old.as_ref(), &new, version))
        } else {
            Ok(Vec::new())
        }
    }
}

#[cfg(feature = "streams")]
pub use reader::StreamReader;

#[cfg(feature = "streams")]
mod reader {
    //! Reading the stream through the DynamoDB Streams API (dynoxide serves it too): what
    //! Lambda does for the deployed notifier, done by `zcc local` and `zcc watch`.

    use aws_sdk_dynamodbstreams::Client;
    use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
    use serde_json::{Map, Value, json};

    use super::{BadChange, Change};
    use crate::store::StoreError;

    fn unavailable<E: std::fmt::Debug, R: std::fmt::Debug>(
        err: aws_sdk_dynamodbstreams::error::SdkError<E, R>,
    ) -> StoreError {
        use aws_sdk_dynamodbstreams::error::SdkError;
        match err {
            SdkError::TimeoutError(_) => StoreError::Unreachable("timed out".to_owned()),
            SdkError::DispatchFailure(_) => StoreError::Unreachable("could not connect".to_owned()),
            other => StoreError::Unavailable(format!("{other:?}").chars().take(200).collect()),
        }
    }

    fn dynamodb_json(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(s) => json!({"S": s}),
            AttributeValue::N(n) => json!({"N": n}),
            AttributeValue::Bool(b) => json!({"BOOL": b}),
            AttributeValue::Ss(items) => json!({"SS": items}),
            AttributeValue::Ns(items) => json!({"NS": items}),
            AttributeValue::L(items) => {
                json!({"L": items.iter().map(dynamodb_json).collect::<Vec<_>>()})
            }
            AttributeValue::M(map) => json!({"M": image(map)}),
            _ => json!({"NULL": true}),
        }
    }

    fn image(map: &std::collections::HashMap<String, AttributeValue>) -> Map<String, Value> {
        map.iter()
            .map(|(k, v)| (k.clone(), dynamodb_json(v)))
            .collect()
    }

    /// A stream record as Lambda would deliver it.
    pub fn lambda_record(record: &Record) -> Value {
        let mut dynamodb = Map::new();
        if let Some(r) = record.dynamodb() {
            if let Some(keys) = r.keys() {
                dynamodb.insert("Keys".into(), Value::Object(image(keys)));
            }
            if let Some(new) = r.new_image() {
                dynamodb.insert("NewImage".into(), Value::Object(image(new)));
            }
            if let Some(old) = r.old_image() {
                dynamodb.insert("OldImage".into(), Value::Object(image(old)));
            }
            if let Some(seq) = r.sequence_number() {
                dynamodb.insert("SequenceNumber".into(), Value::from(seq));
            }
        }
        json!({
            "eventName": record.event_name().map(|n| n.as_str().to_owned()),
            "eventSource": "aws:dynamodb",
            "dynamodb": dynamodb,
        })
    }

    /// Follows every shard of a table's latest stream from where it is now (or from its
    /// start), handing back changes as they come.
    pub struct StreamReader {
        client: Client,
        /// Open shard iterators, by shard id.
        iterators: Vec<(String, Option<String>)>,
        stream_arn: String,
        from_start: bool,
    }

    impl StreamReader {
        pub async fn open(
            client: Client,
            table: &str,
            from_start: bool,
        ) -> Result<Self, StoreError> {
            let streams = client
                .list_streams()
                .table_name(table)
                .send()
                .await
                .map_err(unavailable)?;
            let stream_arn = streams
                .streams()
                .last()
                .and_then(|s| s.stream_arn())
                .ok_or_else(|| {
                    StoreError::Unavailable(format!(
                        "table {table} has no stream: create it with a stream (NEW_AND_OLD_IMAGES)"
                    ))
                })?
                .to_owned();
            let mut reader = Self {
                client,
                iterators: Vec::new(),
                stream_arn,
                from_start,
            };
            reader.discover().await?;
            Ok(reader)
        }

        /// Picks up shards not followed yet.
        async fn discover(&mut self) -> Result<(), StoreError> {
            let description = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .send()
                .await
                .map_err(unavailable)?;
            let shards = description
                .stream_description()
                .map(|d| d.shards().to_vec())
                .unwrap_or_default();
            for shard in shards {
                let Some(id) = shard.shard_id() else { continue };
                if self.iterators.iter().any(|(known, _)| known == id) {
                    continue;
                }
                let kind = if self.from_start {
                    ShardIteratorType::TrimHorizon
                } else {
                    ShardIteratorType::Latest
                };
                let iterator = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.stream_arn)
                    .shard_id(id)
                    .shard_iterator_type(kind)
                    .send()
                    .await
                    .map_err(unavailable)?;
                self.iterators
                    .push((id.to_owned(), iterator.shard_iterator().map(str::to_owned)));
            }
            // Shards that appear later hold only new changes: read them from their start.
            self.from_start = true;
            Ok(())
        }

        /// The changes that arrived since the last call, in each shard's order, as Lambda
        /// would deliver them.
        pub async fn poll(&mut self) -> Result<Vec<Value>, StoreError> {
            self.discover().await?;
            let mut out = Vec::new();
            for (_, iterator) in self.iterators.iter_mut() {
                let Some(current) = iterator.clone() else {
                    continue;
                };
                let page = self
                    .client
                    .get_records()
                    .shard_iterator(current)
                    .send()
                    .await
                    .map_err(unavailable)?;
                out.extend(page.records().iter().map(lambda_record));
                *iterator = page.next_shard_iterator().map(str::to_owned);
            }
            Ok(out)
        }
    }

    /// The changes of a batch of Lambda-shaped records.
    pub fn changes(records: &[Value]) -> Vec<Result<Change, BadChange>> {
        records.iter().map(Change::from_lambda_record).collect()
    }
}

#[cfg(feature = "streams")]
pub use reader::{changes, lambda_record};
