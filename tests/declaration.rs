//! Walks the schema's declaration, field by field, through everything generated from it:
//! the text parser, both decoding paths, merging, `encoded_len`, the cheap bound, the
//! encoder and the text printer. A field that any of them misses (left in the unknown
//! fields, dropped on encoding, counted wrong, not printed, not parsed) fails here, by
//! name.

mod common;

use atomix_headers::schema::{Field, FieldType, MessageType};
use atomix_headers::{text, Message, Name, RequestHeader, ResponseHeader, StreamHeader};
use common::hex;

/// An unknown field (number 15, varint 1), which no message declares.
const UNKNOWN: [u8; 2] = [15 << 3, 1];

/// What the generated code made of one encoding.
#[derive(Debug)]
struct Seen {
    /// The message re-encoded.
    encoded: Vec<u8>,
    encoded_len: usize,
    /// Whether the message equals its type's default.
    is_default: bool,
    /// The unknown fields' bytes.
    unknown: Vec<u8>,
    text: String,
}

fn seen<'a, M: Message<'a> + std::fmt::Display + Default + PartialEq>(
    message: M,
    unknown: Vec<u8>,
) -> Seen {
    Seen {
        encoded: message.encode_to_vec().unwrap(),
        encoded_len: message.encoded_len(),
        is_default: message == M::default(),
        unknown,
        text: message.to_string(),
    }
}

fn unknown_bytes(fields: &atomix_headers::UnknownFields<'_>) -> Vec<u8> {
    fields.iter().flat_map(|f| f.as_bytes().to_vec()).collect()
}

/// Decodes `bytes` as `ty`, through the generated decoders.
fn decode(ty: MessageType, bytes: &[u8]) -> Seen {
    match ty {
        MessageType::Name => {
            let m = Name::decode(bytes).unwrap();
            seen(m, unknown_bytes(&m.unknown_fields))
        }
        MessageType::StreamHeader => {
            let m = StreamHeader::decode(bytes).unwrap();
            seen(m, unknown_bytes(&m.unknown_fields))
        }
        MessageType::RequestHeader => {
            let m = RequestHeader::decode(bytes).unwrap();
            seen(m, unknown_bytes(&m.unknown_fields))
        }
        MessageType::ResponseHeader => {
            let m = ResponseHeader::decode(bytes).unwrap();
            seen(m, unknown_bytes(&m.unknown_fields))
        }
        other => panic!("{other} is not a declared message"),
    }
}

/// A text giving `field` a value that is not its default.
fn text_value(field: &Field) -> String {
    match field.ty() {
        FieldType::Uint64 => format!("{}: 300", field.name()),
        FieldType::String => format!("{}: \"a value\"", field.name()),
        // Not a value the schema names: the open enum keeps it.
        FieldType::Enum(_) => format!("{}: 77", field.name()),
        FieldType::Message(inner) => {
            // The inner message with each of its fields set, twice when repeated.
            let body: Vec<String> = inner.fields().iter().map(text_value).collect();
            let one = format!("{} {{ {} }}", field.name(), body.join(" "));
            if field.is_repeated() {
                format!("{one} {one}")
            } else {
                one
            }
        }
        other => panic!("{other:?}: a field type this test does not know"),
    }
}

const DECLARED: [MessageType; 4] = [
    MessageType::Name,
    MessageType::StreamHeader,
    MessageType::RequestHeader,
    MessageType::ResponseHeader,
];

#[test]
fn every_declared_field_goes_through_every_generated_path() {
    let mut checked = 0;
    for ty in DECLARED {
        assert!(!ty.fields().is_empty(), "{ty}");
        for field in ty.fields() {
            let what = format!("{ty}.{}", field.name());
            // The text parser writes the field, with its tag, from the schema.
            let canonical = text::parse(ty, &text_value(field)).unwrap();
            assert_eq!(
                canonical[0] as u32,
                field.tag(),
                "{what}: {}",
                hex(&canonical)
            );

            // The fast path takes the canonical encoding into the field, not into the
            // unknown fields, and writes it back the same.
            let fast = decode(ty, &canonical);
            assert!(!fast.is_default, "{what}: decoded as the default");
            assert!(fast.unknown.is_empty(), "{what}: decoded as unknown");
            assert_eq!(hex(&fast.encoded), hex(&canonical), "{what}: re-encoded");
            assert_eq!(fast.encoded_len, canonical.len(), "{what}: encoded_len");

            // The printer names the field, and the parser reads the print back.
            assert!(
                fast.text.starts_with(field.name()),
                "{what}: printed {:?}",
                fast.text
            );
            assert_eq!(
                hex(&text::parse(ty, &fast.text).unwrap()),
                hex(&canonical),
                "{what}: printed text parsed back"
            );

            // The general path: the field after an unknown one (which the fast path
            // declines), then the same field again (scalars overwrite, messages merge,
            // repeated fields append).
            let mut shuffled = UNKNOWN.to_vec();
            shuffled.extend_from_slice(&canonical);
            let general = decode(ty, &shuffled);
            assert_eq!(general.unknown, UNKNOWN, "{what}: general path's unknown");
            let mut expected = canonical.clone();
            expected.extend_from_slice(&UNKNOWN);
            assert_eq!(
                hex(&general.encoded),
                hex(&expected),
                "{what}: general path"
            );
            assert_eq!(general.encoded_len, expected.len(), "{what}");

            let mut twice = canonical.clone();
            twice.extend_from_slice(&canonical);
            let merged = decode(ty, &twice);
            let expected = if field.is_repeated() {
                twice.clone()
            } else {
                canonical.clone()
            };
            assert_eq!(hex(&merged.encoded), hex(&expected), "{what}: merged");
            checked += 1;
        }
    }
    // Every field of the declared messages, counted from the schema itself.
    let declared: usize = DECLARED.iter().map(|ty| ty.fields().len()).sum();
    assert_eq!(checked, declared);
}

#[test]
fn every_field_at_its_longest_encodes_back() {
    // Each field at its widest: u64::MAX, a string over 127 bytes, a negative enum.
    for ty in DECLARED {
        let text: Vec<String> = ty
            .fields()
            .iter()
            .map(|field| match field.ty() {
                FieldType::Uint64 => format!("{}: 18446744073709551615", field.name()),
                FieldType::String => format!("{}: \"{}\"", field.name(), "x".repeat(200)),
                FieldType::Enum(_) => format!("{}: -1", field.name()),
                _ => text_value(field),
            })
            .collect();
        let bytes = text::parse(ty, &text.join("\n")).unwrap();
        // `encode` checks, in debug builds, that its cheap bound covers the exact length.
        let seen = decode(ty, &bytes);
        assert_eq!(hex(&seen.encoded), hex(&bytes), "{ty}");
        assert_eq!(seen.encoded_len, bytes.len(), "{ty}");
    }
}
