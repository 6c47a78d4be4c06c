//! [`UnknownField`]: one unknown field, and its value read by wire type.

use crate::wire::varint;
use core::fmt;

/// One unknown field: its number, wire type and exact bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnknownField<'a> {
    pub(super) tag: u32,
    /// The whole field: tag and value.
    pub(super) raw: &'a [u8],
    /// The value: a varint's bytes, a fixed value, a length-delimited payload, or a
    /// group's contents.
    pub(super) body: &'a [u8],
}

impl<'a> UnknownField<'a> {
    /// The field number.
    pub fn number(&self) -> u32 {
        self.tag >> 3
    }

    /// The wire type: 0 varint, 1 fixed64, 2 length-delimited, 3 group, 5 fixed32.
    pub fn wire_type(&self) -> u8 {
        (self.tag & 7) as u8
    }

    /// The whole field as it arrived, tag included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// For a length-delimited field, the bytes its length prefix announces.
    pub fn payload(&self) -> Option<&'a [u8]> {
        (self.tag & 7 == 2).then_some(self.body)
    }

    /// For a `fixed32` (wire type 5) field, its value, little-endian as on the wire; cast
    /// it for `sfixed32` or `f32::from_bits` for `float`.
    ///
    /// ```
    /// use atomix_headers::{StreamHeader, UnknownFields};
    ///
    /// let fields = UnknownFields::from_bytes::<StreamHeader>(&[0x1d, 1, 2, 3, 4])?;
    /// let field = fields.last(3).unwrap();
    /// assert_eq!(field.fixed32(), Some(0x0403_0201));
    /// assert_eq!((field.fixed64(), field.varint(), field.payload()), (None, None, None));
    /// # Ok::<(), atomix_headers::UnknownFieldsError>(())
    /// ```
    pub fn fixed32(&self) -> Option<u32> {
        let bytes: [u8; 4] = self.fixed_body(5)?.try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    }

    /// For a `fixed64` (wire type 1) field, its value; cast it for `sfixed64` or
    /// `f64::from_bits` for `double`.
    pub fn fixed64(&self) -> Option<u64> {
        let bytes: [u8; 8] = self.fixed_body(1)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    }

    /// For a varint field, its value read as `sint64` (zigzag): 0, -1, 1, -2, ... for
    /// 0, 1, 2, 3, .... (`sint32` is the same for the values it can hold.)
    ///
    /// ```
    /// use atomix_headers::{StreamHeader, UnknownFields};
    ///
    /// let fields = UnknownFields::from_bytes::<StreamHeader>(&[0x18, 0x03])?;
    /// assert_eq!(fields.last(3).unwrap().zigzag(), Some(-2));
    /// # Ok::<(), atomix_headers::UnknownFieldsError>(())
    /// ```
    pub fn zigzag(&self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// The value bytes of a fixed-width field of `wire_type`: the field's last bytes.
    fn fixed_body(&self, wire_type: u32) -> Option<&'a [u8]> {
        let width = if wire_type == 5 { 4 } else { 8 };
        if self.tag & 7 != wire_type {
            return None;
        }
        self.raw.get(self.raw.len().checked_sub(width)?..)
    }

    /// For a varint field, its value (all 64 bits, as a `uint64` field reads it).
    ///
    /// ```
    /// use atomix_headers::{StreamHeader, UnknownFields};
    ///
    /// let fields = UnknownFields::from_bytes::<StreamHeader>(&[0x18, 0xac, 0x02])?;
    /// assert_eq!(fields.last(3).and_then(|f| f.varint()), Some(300));
    /// # Ok::<(), atomix_headers::UnknownFieldsError>(())
    /// ```
    pub fn varint(&self) -> Option<u64> {
        if self.tag & 7 != 0 {
            return None;
        }
        // `raw` is a checked field: a tag varint, then a value varint that ends it.
        let (_, tag_len) = varint::decode(self.raw, varint::MAX_VARINT_LEN).ok()?;
        let (value, _) = varint::decode(self.raw.get(tag_len..)?, varint::MAX_VARINT_LEN).ok()?;
        Some(value)
    }
}

impl fmt::Debug for UnknownField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnknownField")
            .field("number", &self.number())
            .field("wire_type", &self.wire_type())
            .field("bytes", &self.raw)
            .finish()
    }
}
