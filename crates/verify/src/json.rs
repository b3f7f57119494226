//! JSON reading shared with the issuer: every struct from a JSON object only.
//!
//! serde's derived readers take a struct from a JSON object or from an array (its fields by
//! position). Nothing here or in the issuer writes or documents the array form, and its
//! reader is compiled for every struct and every place one is read: reading through
//! [`from_slice`] leaves it out (about 10 KB of the issuer's wasm, gzipped). The issuer reads
//! all its JSON through this one function too, so the two crates share each type's reader.

use std::fmt;

use serde::de::{DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Parses `bytes` as one JSON value of type `T`, as `serde_json::from_slice` does, except that
/// a struct, at any depth, must be a JSON object: an array in its place is an "invalid type"
/// error, as any other wrong type is.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(Objects(&mut de))?;
    de.end()?;
    Ok(value)
}

/// serde_json's deserializer, and every part of it a reader is handed, with each struct read
/// as a map: `deserialize_struct` asks for a map, so no struct's `visit_seq` is ever called,
/// and none is compiled. Everything else passes through unchanged, the same wrapper around
/// each nested deserializer, access and visitor, and around the seed of each value and element
/// (not of map keys: those are strings, read by serde_json's own key reader).
struct Objects<T>(T);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(Objects(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Objects<D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, Objects(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, Objects(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, Objects(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, Objects(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(Objects(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, Objects(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: serde::de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Objects<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Objects(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Objects(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Objects(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Objects(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(Objects(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Objects<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Objects(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Objects<A> {
    type Error = A::Error;
    type Variant = Objects<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, Objects(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Objects(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Objects(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        // serde_json reads a struct variant as a struct, which would take an array too: only
        // `visit_map` is passed on.
        self.0.struct_variant(fields, MapOnly(visitor))
    }
}

/// A visitor that takes a map and nothing else (see [`VariantAccess::struct_variant`] above).
struct MapOnly<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for MapOnly<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Objects(map))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::Value;

    use super::from_slice;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: u64,
        #[serde(default)]
        b: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Wrapped(u64),
        Pair(u64, bool),
        Shaped { x: i64 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Id(String);

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        inner: Inner,
        many: Vec<Inner>,
        maybe: Option<Inner>,
        kinds: Vec<Kind>,
        id: Id,
        pair: (String, u64),
        map: BTreeMap<String, Inner>,
        any: Value,
    }

    const GOOD: &str = r#"{"inner":{"a":1,"b":"x"},"many":[{"a":2}],"maybe":null,
        "kinds":["plain",{"wrapped":3},{"pair":[4,true]},{"shaped":{"x":-5}}],
        "id":"i","pair":["p",6],"map":{"k":{"a":7}},"any":{"n":[1.5,null,"s"]}}"#;

    #[test]
    fn reads_what_serde_json_reads_from_objects() {
        let ours: Outer = from_slice(GOOD.as_bytes()).unwrap();
        let theirs: Outer = serde_json::from_str(GOOD).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.kinds[3], Kind::Shaped { x: -5 });
        assert_eq!(ours.any["n"][0], 1.5);
    }

    #[test]
    fn structs_are_never_read_from_arrays() {
        let top = from_slice::<Inner>(br#"[1, "x"]"#).unwrap_err();
        assert_eq!(
            top.to_string(),
            "invalid type: sequence, expected struct Inner at line 1 column 0"
        );
        let nested = br#"{"inner":[1],"many":[],"maybe":null,"kinds":[],"id":"i",
            "pair":["p",6],"map":{},"any":null}"#;
        assert!(serde_json::from_slice::<Outer>(nested).is_ok());
        let e = from_slice::<Outer>(nested).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid type: sequence, expected struct Inner"),
            "{e}"
        );
        for element in [
            r#"{"many":[[2]]}"#,
            r#"{"maybe":[3]}"#,
            r#"{"map":{"k":[4]}}"#,
        ] {
            let e = from_slice::<Outer>(element.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("invalid type: sequence, expected struct Inner"),
                "{e}"
            );
        }
        let variant = from_slice::<Kind>(br#"{"shaped":[1]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            variant.starts_with("invalid type: sequence, expected struct variant"),
            "{variant}"
        );
    }

    #[test]
    fn other_errors_are_serde_json_s() {
        for bad in [
            r#"{"inner":{"a":"1"}}"#,
            r#"{"inner":{"a":1},"extra":1}"#,
            r#"{"kinds":["nope"]}"#,
            r#"{"inner":{"a":1}"#,
            r#"{"inner":{"a":1}} x"#,
            r#"{"pair":["p"]}"#,
        ] {
            let ours = from_slice::<Outer>(bad.as_bytes()).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Outer>(bad).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{bad}");
        }
    }
}
