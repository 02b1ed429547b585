//! Serializes a value straight into DynamoDB attribute values: the item [`to_item`] makes
//! from the value's JSON, without building the JSON first. Turning the state into its item
//! is the largest CPU cost of an event (`cargo bench -p zcc-shared --bench hot_path`).
//!
//! [`to_item`]: super::attributes::to_item

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::ser::{self, Impossible};

use super::attributes::{Item, fits_dynamodb};

#[derive(Debug, thiserror::Error)]
#[error("cannot encode as a DynamoDB item: {0}")]
pub struct EncodeError(String);

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// The item of `value`, which serializes as a map (a struct); `sets` name the top-level
/// attributes written as string sets rather than lists. Absent values (null, empty lists
/// and maps) are left out, as [`to_item`](super::attributes::to_item) leaves them out.
pub fn item_of<T: Serialize + ?Sized>(value: &T, sets: &[&str]) -> Result<Item, EncodeError> {
    let Some(AttributeValue::M(mut item)) = value.serialize(Attribute)? else {
        return Err(EncodeError("the value is not a map".into()));
    };
    for name in sets {
        if let Some(AttributeValue::L(items)) = item.remove(*name) {
            let strings: Vec<String> = items
                .into_iter()
                .filter_map(|v| match v {
                    AttributeValue::S(s) => Some(s),
                    _ => None,
                })
                .collect();
            if !strings.is_empty() {
                item.insert((*name).to_owned(), AttributeValue::Ss(strings));
            }
        }
    }
    Ok(item)
}

/// One value: `None` when it is absent from the item.
struct Attribute;

type Output = Option<AttributeValue>;

fn number(text: String) -> Output {
    Some(AttributeValue::N(text))
}

impl ser::Serializer for Attribute {
    type Ok = Output;
    type Error = EncodeError;
    type SerializeSeq = List;
    type SerializeTuple = List;
    type SerializeTupleStruct = List;
    type SerializeTupleVariant = Variant<List>;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Variant<Map>;

    fn serialize_bool(self, v: bool) -> Result<Output, EncodeError> {
        Ok(Some(AttributeValue::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<Output, EncodeError> {
        Ok(number(v.to_string()))
    }
    fn serialize_f32(self, v: f32) -> Result<Output, EncodeError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Output, EncodeError> {
        // As JSON has it: not-a-number and infinities are null, hence absent.
        Ok(serde_json::Number::from_f64(v).map(|n| {
            if fits_dynamodb(&n) {
                AttributeValue::N(n.to_string())
            } else {
                AttributeValue::S(n.to_string())
            }
        }))
    }
    fn serialize_char(self, v: char) -> Result<Output, EncodeError> {
        Ok(Some(AttributeValue::S(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Output, EncodeError> {
        Ok(Some(AttributeValue::S(v.to_owned())))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Output, EncodeError> {
        // JSON writes bytes as a list of numbers.
        let mut list = List::default();
        for b in v {
            ser::SerializeSeq::serialize_element(&mut list, b)?;
        }
        ser::SerializeSeq::end(list)
    }
    fn serialize_none(self) -> Result<Output, EncodeError> {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Output, EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Output, EncodeError> {
        Ok(None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Output, EncodeError> {
        Ok(None)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Output, EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Output, EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Output, EncodeError> {
        let mut map = Map::default();
        ser::SerializeStruct::serialize_field(&mut map, variant, value)?;
        ser::SerializeStruct::end(map)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<List, EncodeError> {
        Ok(List(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<List, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<List, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<List>, EncodeError> {
        Ok(Variant(variant, List(Vec::with_capacity(len))))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, EncodeError> {
        Ok(Map::default())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map, EncodeError> {
        Ok(Map::default())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Variant<Map>, EncodeError> {
        Ok(Variant(variant, Map::default()))
    }
}

#[derive(Default)]
struct List(Vec<AttributeValue>);

impl List {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        // In a list an absent value keeps its place, as null.
        self.0.push(
            value
                .serialize(Attribute)?
                .unwrap_or(AttributeValue::Null(true)),
        );
        Ok(())
    }
    fn done(self) -> Output {
        (!self.0.is_empty()).then_some(AttributeValue::L(self.0))
    }
}

impl ser::SerializeSeq for List {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for List {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for List {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        Ok(self.done())
    }
}

#[derive(Default)]
struct Map {
    entries: Item,
    key: Option<String>,
}

impl Map {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), EncodeError> {
        // DynamoDB refuses empty names; absent values are left out.
        if let Some(value) = value.serialize(Attribute)?
            && !key.is_empty()
        {
            self.entries.insert(key, value);
        }
        Ok(())
    }
    fn done(self) -> Output {
        (!self.entries.is_empty()).then_some(AttributeValue::M(self.entries))
    }
}

impl ser::SerializeMap for Map {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.key = Some(key.serialize(Key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EncodeError("a map value without its key".into()))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        Ok(self.done())
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.insert(key.to_owned(), value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        Ok(self.done())
    }
}

/// An enum variant with content: `{variant: content}`, as JSON has it.
struct Variant<T>(&'static str, T);

impl ser::SerializeTupleVariant for Variant<List> {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.1.push(value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        let content = self.1.done().unwrap_or(AttributeValue::Null(true));
        Ok(Some(AttributeValue::M(Item::from([(
            self.0.to_owned(),
            content,
        )]))))
    }
}

impl ser::SerializeStructVariant for Variant<Map> {
    type Ok = Output;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.1.insert(key.to_owned(), value)
    }
    fn end(self) -> Result<Output, EncodeError> {
        let content = self.1.done();
        Ok(Some(AttributeValue::M(Item::from_iter(
            content.map(|c| (self.0.to_owned(), c)),
        ))))
    }
}

/// A map key: text, or a number or character written as text (as JSON has them).
struct Key;

impl ser::Serializer for Key {
    type Ok = String;
    type Error = EncodeError;
    type SerializeSeq = Impossible<String, EncodeError>;
    type SerializeTuple = Impossible<String, EncodeError>;
    type SerializeTupleStruct = Impossible<String, EncodeError>;
    type SerializeTupleVariant = Impossible<String, EncodeError>;
    type SerializeMap = Impossible<String, EncodeError>;
    type SerializeStruct = Impossible<String, EncodeError>;
    type SerializeStructVariant = Impossible<String, EncodeError>;

    fn serialize_str(self, v: &str) -> Result<String, EncodeError> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, EncodeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, EncodeError> {
        value.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_f32(self, _: f32) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _: f64) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(not_a_key())
    }
}

fn not_a_key() -> EncodeError {
    EncodeError("a map key is not text or a number".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::attributes::to_item;
    use serde_json::{Value, json};

    fn both(value: &Value, sets: &[&str]) -> (Item, Item) {
        let direct = item_of(value, sets).unwrap();
        let via_json = to_item(value.as_object().unwrap().clone(), sets);
        (direct, via_json)
    }

    #[test]
    fn the_same_item_as_through_json() {
        let value = json!({
            "s": "x", "n": 12, "neg": -3, "f": 1.5, "tiny": 1e-200, "huge": 1e200, "b": true,
            "null": null, "empty": [], "empty_map": {}, "map": {"k": [1, "a", null, []], "": 1,
            "gone": null}, "tags": ["b", "a"], "no_tags": [], "deep": {"a": {"b": {"c": "d"}}},
            "big": u64::MAX, "min": i64::MIN,
        });
        let (direct, via_json) = both(&value, &["tags", "no_tags"]);
        assert_eq!(direct, via_json);
        assert_eq!(
            direct["tags"],
            AttributeValue::Ss(vec!["b".into(), "a".into()])
        );
    }

    #[test]
    fn the_same_item_for_every_record_the_fixtures_make() {
        use zcc_domain::engagement::EngagementState;
        use zcc_domain::merge::State;
        use zcc_domain::published::PUBLISHED;
        use zcc_domain::timestamp::Timestamp;
        let t0 = Timestamp::parse("2026-12-01T09:00:00.000Z").unwrap();
        let mut state = EngagementState::fresh("e1");
        for (n, published) in PUBLISHED.iter().enumerate() {
            let body = zcc_domain::published::body(
                published.name,
                "e1",
                t0.saturating_add_millis(n as i64 * 1000),
            )
            .unwrap();
            state.apply(&zcc_domain::event::testing::webhook(&body.to_string()));
            let value = serde_json::to_value(&state).unwrap();
            let (direct, via_json) = both(&value, crate::dynamodb::schema::SETS);
            assert_eq!(direct, via_json, "after {}", published.name);
            assert_eq!(
                item_of(&state, crate::dynamodb::schema::SETS).unwrap(),
                via_json
            );
        }
    }

    #[test]
    fn enums_are_as_json_has_them() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        #[derive(Serialize)]
        struct S {
            unit: E,
            new: E,
            tuple: E,
            strukt: E,
            numbered: std::collections::BTreeMap<u32, String>,
        }
        let s = S {
            unit: E::Unit,
            new: E::New(1),
            tuple: E::Tuple(1, 2),
            strukt: E::Struct { a: 3 },
            numbered: [(7, "seven".to_owned())].into(),
        };
        let value = serde_json::to_value(&s).unwrap();
        assert_eq!(
            item_of(&s, &[]).unwrap(),
            to_item(value.as_object().unwrap().clone(), &[])
        );
        assert!(item_of(&5u8, &[]).is_err(), "not a map");
    }
}
