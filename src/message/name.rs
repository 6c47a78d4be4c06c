//! `atomix.primitive.Name`: a primitive's name, scoped by its namespace.

use super::{sealed::Sealed, Message};
use crate::error::DecodeError;
use crate::schema::MessageType;
use crate::unknown::{Tracker, UnknownFields};
use crate::wire::reader::Reader;
use crate::wire::sink::Sink;
use crate::wire::size;
use crate::wire::speculative::Speculative;

pub(crate) const NAME: u32 = MessageType::Name.tag_of("name");
pub(crate) const NAMESPACE: u32 = MessageType::Name.tag_of("namespace");

/// `atomix.primitive.Name`.
///
/// ```
/// use atomix_headers::{Message, Name};
///
/// let name = Name { name: "my-map", namespace: "default", ..Default::default() };
/// assert_eq!(name.encode_to_vec()?, b"\x0a\x06my-map\x12\x07default");
/// assert_eq!(Name::decode(b"\x0a\x06my-map\x12\x07default")?, name);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Name<'a> {
    /// Field 1: the primitive's name.
    pub name: &'a str,
    /// Field 2: the namespace it lives in.
    pub namespace: &'a str,
    /// Fields this schema does not know, kept byte for byte.
    pub unknown_fields: UnknownFields<'a>,
}

impl<'a> Name<'a> {
    /// Decodes one occurrence into `self`, as a repeated occurrence of a message field
    /// merges: fields present here overwrite, absent ones stay. Returns how many bytes
    /// of unknown fields this occurrence holds; `self.unknown_fields` is set to them.
    #[inline]
    pub(crate) fn merge_from(
        &mut self,
        mut r: Reader<'a>,
        depth: u32,
    ) -> Result<usize, DecodeError> {
        let mut unknown = Tracker::default();
        while r.has_remaining() {
            let start = r.pos();
            match r.tag()? {
                NAME => self.name = r.string_field(1)?,
                NAMESPACE => self.namespace = r.string_field(2)?,
                other => {
                    r.skip(other, start, depth)?;
                    unknown.add(start, r.pos());
                }
            }
        }
        self.unknown_fields = unknown.finish(r.data(), MessageType::Name, depth);
        Ok(unknown.len())
    }
}

impl<'a> Sealed<'a> for Name<'a> {
    /// The fast path: a Name in canonical shape (`name`, then `namespace`, at most once
    /// each, one-byte tags, unknown fields last). Anything else is left to
    /// [`Name::merge_from`].
    #[inline(always)]
    fn decode_fast(mut r: Speculative<'a>, depth: u32) -> Option<Self> {
        // Values returned, not written through `&mut name.name` (`string_field`), which
        // cost a RequestHeader decode more instructions (examples/instruction_counts.rs).
        Some(Name {
            name: r.string_if(NAME)?,
            namespace: r.string_if(NAMESPACE)?,
            unknown_fields: UnknownFields::rest_of(&mut r, MessageType::Name, depth)?,
        })
    }

    fn decode_any(reader: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
        let mut name = Name::default();
        name.merge_from(reader, depth)?;
        Ok(name)
    }

    #[cfg(debug_assertions)]
    fn same_repr(&self, other: &Self) -> bool {
        self == other
            && core::ptr::eq(self.name, other.name)
            && core::ptr::eq(self.namespace, other.namespace)
            && self.unknown_fields.same_repr(&other.unknown_fields)
    }

    #[inline(always)]
    fn fits(&self, depth: u32) -> bool {
        self.unknown_fields.fit(MessageType::Name, depth)
    }

    #[inline(always)]
    fn max_encoded_len(&self) -> usize {
        size::bytes_max(self.name.len())
            .saturating_add(size::bytes_max(self.namespace.len()))
            .saturating_add(self.unknown_fields.encoded_len())
    }

    #[inline]
    fn write<S: Sink>(&self, sink: &mut S) {
        sink.put_short_string_field(NAME, self.name);
        sink.put_short_string_field(NAMESPACE, self.namespace);
        self.unknown_fields.write(sink);
    }
}

impl<'a> Message<'a> for Name<'a> {
    #[inline(always)]
    fn encoded_len(&self) -> usize {
        size::string(self.name) + size::string(self.namespace) + self.unknown_fields.encoded_len()
    }
}

impl crate::unknown::private::Known for Name<'_> {
    fn kind() -> MessageType {
        MessageType::Name
    }
}
