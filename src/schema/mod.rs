//! The schema: every message type the crate reads, with its fields' numbers, names and
//! types, as `testdata/schema/` declares them. The fields come from one declaration
//! (`declaration.rs`), which also generates the messages' code.
//!
//! The messages take their field tags from here, the unknown-field checks ask which tags a
//! message knows, the text printer takes the field names, and the command-line tool finds
//! message types and fields by name.
//!
//! ```
//! use atomix_headers::schema::{FieldType, MessageType};
//!
//! let request: MessageType = "atomix.headers.RequestHeader".parse()?;
//! let index = request.field_named("index").unwrap();
//! assert_eq!((index.number(), index.ty()), (4, FieldType::Uint64));
//! assert_eq!(request.field(5).unwrap().ty(), FieldType::Message(MessageType::StreamHeader));
//! # Ok::<(), atomix_headers::schema::UnknownMessageType>(())
//! ```

use crate::enums::{ResponseStatus, ResponseType};
use core::fmt;
use core::str::FromStr;

/// A message type of the schema: the headers, the `Name` they use, and the two envelopes
/// (an Atomix primitive request or response seen through its header, field 1).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `atomix.primitive.Name`.
    Name,
    /// `atomix.headers.RequestHeader`.
    RequestHeader,
    /// `atomix.headers.ResponseHeader`.
    ResponseHeader,
    /// `atomix.headers.StreamHeader`.
    StreamHeader,
    /// `atomix.envelope.RequestEnvelope` (testdata/schema/atomix/envelope).
    RequestEnvelope,
    /// `atomix.envelope.ResponseEnvelope`.
    ResponseEnvelope,
}

/// An enum type of the schema.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnumType {
    /// `atomix.headers.ResponseStatus`.
    ResponseStatus,
    /// `atomix.headers.ResponseType`.
    ResponseType,
}

/// What a field holds.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `uint64`.
    Uint64,
    /// `string`: UTF-8.
    String,
    /// An open enum: any int32.
    Enum(EnumType),
    /// An embedded message.
    Message(MessageType),
}

/// A field of a message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    number: u32,
    name: &'static str,
    ty: FieldType,
    repeated: bool,
}

impl Field {
    const fn new(number: u32, name: &'static str, ty: FieldType) -> Self {
        Self {
            number,
            name,
            ty,
            repeated: false,
        }
    }

    const fn repeated(number: u32, name: &'static str, ty: FieldType) -> Self {
        Self {
            repeated: true,
            ..Self::new(number, name, ty)
        }
    }

    /// The field number.
    pub const fn number(&self) -> u32 {
        self.number
    }

    /// The field name, as the text format writes it.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// What the field holds.
    pub const fn ty(&self) -> FieldType {
        self.ty
    }

    /// Whether the field is `repeated`.
    pub const fn is_repeated(&self) -> bool {
        self.repeated
    }

    /// The tag the field is written with: its number and its wire type (0 for varints,
    /// 2 for strings and messages).
    pub const fn tag(&self) -> u32 {
        let wire_type = match self.ty {
            FieldType::Uint64 | FieldType::Enum(_) => 0,
            FieldType::String | FieldType::Message(_) => 2,
        };
        self.number << 3 | wire_type
    }
}

mod declaration;
pub(crate) use declaration::declaration;

/// Builds [`declared`], the field tables, from the declaration.
macro_rules! field_tables {
    (
        $(
            $(#[$doc:meta])*
            message $ty:ident in $module:ident, $shape:ident {
                $( $(#[$fdoc:meta])* $num:literal $field:ident : $kind:ident $(($arg:ident))? , )*
            }
        )*
        $(
            envelope $env:ident {
                $( $enum:literal $efield:ident : $ekind:ident $(($earg:ident))? , )*
            }
        )*
    ) => {
        /// The fields of `ty`, as declared.
        const fn declared(ty: MessageType) -> &'static [Field] {
            match ty {
                $( MessageType::$ty => const { &[
                    $( field_tables!(@field $num, $field, $kind $($arg)?), )*
                ] }, )*
                $( MessageType::$env => const { &[
                    $( field_tables!(@field $enum, $efield, $ekind $($earg)?), )*
                ] }, )*
            }
        }
    };
    (@field $num:literal, $field:ident, repeated $arg:ident) => {
        Field::repeated($num, field_name(stringify!($field)), FieldType::Message(MessageType::$arg))
    };
    (@field $num:literal, $field:ident, $kind:ident $($arg:ident)?) => {
        Field::new($num, field_name(stringify!($field)), field_tables!(@type $kind $($arg)?))
    };
    (@type uint64) => { FieldType::Uint64 };
    (@type string) => { FieldType::String };
    (@type enumeration $arg:ident) => { FieldType::Enum(EnumType::$arg) };
    (@type message $arg:ident) => { FieldType::Message(MessageType::$arg) };
}

declaration!(field_tables);

/// A field's name as the schema writes it: an identifier that Rust reserves is declared
/// raw (`r#type`), and the `r#` is not part of the name.
pub(crate) const fn field_name(declared: &'static str) -> &'static str {
    match declared.as_bytes() {
        [b'r', b'#', rest @ ..] => match core::str::from_utf8(rest) {
            Ok(name) => name,
            Err(_) => panic!("a field name is UTF-8"),
        },
        _ => declared,
    }
}

/// The tags of `fields` below 64, as bits: every tag of this schema is.
const fn known_tags(fields: &[Field]) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    while i < fields.len() {
        let tag = fields[i].tag();
        assert!(tag < 64, "a tag of 64 or more needs another representation");
        mask |= 1 << tag;
        i += 1;
    }
    mask
}

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl MessageType {
    /// Every message type.
    pub const ALL: [MessageType; 6] = [
        MessageType::Name,
        MessageType::RequestHeader,
        MessageType::ResponseHeader,
        MessageType::StreamHeader,
        MessageType::RequestEnvelope,
        MessageType::ResponseEnvelope,
    ];

    /// The full name, package included: `atomix.headers.RequestHeader`.
    pub const fn full_name(self) -> &'static str {
        match self {
            MessageType::Name => "atomix.primitive.Name",
            MessageType::RequestHeader => "atomix.headers.RequestHeader",
            MessageType::ResponseHeader => "atomix.headers.ResponseHeader",
            MessageType::StreamHeader => "atomix.headers.StreamHeader",
            MessageType::RequestEnvelope => "atomix.envelope.RequestEnvelope",
            MessageType::ResponseEnvelope => "atomix.envelope.ResponseEnvelope",
        }
    }

    /// The name without its package: `RequestHeader`.
    pub const fn name(self) -> &'static str {
        match self {
            MessageType::Name => "Name",
            MessageType::RequestHeader => "RequestHeader",
            MessageType::ResponseHeader => "ResponseHeader",
            MessageType::StreamHeader => "StreamHeader",
            MessageType::RequestEnvelope => "RequestEnvelope",
            MessageType::ResponseEnvelope => "ResponseEnvelope",
        }
    }

    /// The fields, in field-number order.
    pub const fn fields(self) -> &'static [Field] {
        declared(self)
    }

    /// The field numbered `number`.
    pub fn field(self, number: u32) -> Option<Field> {
        self.fields().iter().find(|f| f.number == number).copied()
    }

    /// The field named `name`.
    pub fn field_named(self, name: &str) -> Option<Field> {
        self.fields().iter().find(|f| f.name == name).copied()
    }

    /// The tag of the field named `name`, worked out at compile time by the messages;
    /// a name the type does not have fails the build.
    pub(crate) const fn tag_of(self, name: &str) -> u32 {
        let fields = self.fields();
        let mut i = 0;
        while i < fields.len() {
            if same_str(fields[i].name, name) {
                return fields[i].tag();
            }
            i += 1;
        }
        panic!("no such field")
    }

    /// Whether every field is a singular scalar: a message whose occurrences merge by
    /// overwriting field by field.
    pub(crate) const fn holds_scalars_only(self) -> bool {
        let fields = self.fields();
        let mut i = 0;
        while i < fields.len() {
            if fields[i].repeated || matches!(fields[i].ty, FieldType::Message(_)) {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Whether a field with this tag is one of this message's known fields. A known
    /// field number with another wire type is unknown.
    #[inline(always)]
    pub(crate) const fn is_known(self, tag: u32) -> bool {
        let mask = match self {
            MessageType::Name => const { known_tags(MessageType::Name.fields()) },
            MessageType::RequestHeader => const { known_tags(MessageType::RequestHeader.fields()) },
            MessageType::ResponseHeader => {
                const { known_tags(MessageType::ResponseHeader.fields()) }
            }
            MessageType::StreamHeader => const { known_tags(MessageType::StreamHeader.fields()) },
            MessageType::RequestEnvelope => {
                const { known_tags(MessageType::RequestEnvelope.fields()) }
            }
            MessageType::ResponseEnvelope => {
                const { known_tags(MessageType::ResponseEnvelope.fields()) }
            }
        };
        tag < 64 && mask >> tag & 1 == 1
    }
}

impl fmt::Display for MessageType {
    /// The full name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.full_name())
    }
}

/// A name that is not a message type of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownMessageType;

impl fmt::Display for UnknownMessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a message type of the atomix.headers schema")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for UnknownMessageType {}

impl FromStr for MessageType {
    type Err = UnknownMessageType;

    /// A message type by its full name or its name alone.
    fn from_str(name: &str) -> Result<Self, UnknownMessageType> {
        MessageType::ALL
            .into_iter()
            .find(|t| t.full_name() == name || t.name() == name)
            .ok_or(UnknownMessageType)
    }
}

impl EnumType {
    /// The full name: `atomix.headers.ResponseStatus`.
    pub const fn full_name(self) -> &'static str {
        match self {
            EnumType::ResponseStatus => "atomix.headers.ResponseStatus",
            EnumType::ResponseType => "atomix.headers.ResponseType",
        }
    }

    /// The name the schema gives `value`, if it lists it.
    pub const fn value_name(self, value: i32) -> Option<&'static str> {
        match self {
            EnumType::ResponseStatus => ResponseStatus::from_value(value).name(),
            EnumType::ResponseType => ResponseType::from_value(value).name(),
        }
    }

    /// The value the schema names `name`.
    pub fn value_named(self, name: &str) -> Option<i32> {
        match self {
            EnumType::ResponseStatus => ResponseStatus::from_name(name).map(ResponseStatus::value),
            EnumType::ResponseType => ResponseType::from_name(name).map(ResponseType::value),
        }
    }
}

#[cfg(test)]
mod tests;
