//! The message types, generated from the schema's declaration
//! (`crate::schema::declaration`): for each message, its struct, its field tags, its
//! two decoding paths, its merging across occurrences, and its encoding and sizes.
//!
//! Every piece below is written once per field *kind* and repeated for each declared
//! field, so a field added to the declaration is decoded, merged, sized and written
//! without an edit here; `tests/declaration.rs` walks the declaration and checks each.
//!
//! The decoding paths, per message:
//! - the fast path ([`Sealed::decode_fast`]) reads the canonical shape, each known field
//!   at most once, in number order, with one-byte tags, then the unknown fields; it
//!   declines (`None`) anything else;
//! - the general path ([`Sealed::decode_any`]) reads any field order through `Merge`,
//!   which is also how an occurrence merges into earlier ones (scalars present later
//!   overwrite, messages merge, repeated fields and unknown fields append).
//!
//! [`Sealed::decode_fast`]: super::sealed::Sealed::decode_fast
//! [`Sealed::decode_any`]: super::sealed::Sealed::decode_any

/// Generates the messages from the declaration; see the module's documentation.
macro_rules! message_types {
    (
        $(
            $(#[$doc:meta])*
            message $ty:ident in $module:ident, $shape:ident {
                $( $(#[$fdoc:meta])* $num:literal $field:ident : $kind:ident $(($arg:ident))? , )*
            }
        )*
        $( envelope $envelope:ident { $($envelope_fields:tt)* } )*
    ) => { $(
        pub(crate) mod $module {
            #[allow(unused_imports)]
            use crate::enums::{ResponseStatus, ResponseType};
            use crate::error::DecodeError;
            // A glob: the message's own type shadows its name there.
            #[allow(unused_imports)]
            use crate::message::*;
            use crate::message::sealed::Sealed;
            use crate::message::Message;
            use crate::schema::MessageType;
            #[allow(unused_imports)]
            use crate::unknown::{Tracker, UnknownFields};
            #[allow(unused_imports)]
            use crate::wire::fields::Path;
            use crate::wire::reader::Reader;
            use crate::wire::sink::Sink;
            use crate::wire::size;

            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $ty<'a> {
                $( $(#[$fdoc])* pub $field: crate::message::declared::message_types!(@type $kind $($arg)?), )*
                /// Fields this schema does not know, kept byte for byte.
                pub unknown_fields: UnknownFields<'a>,
            }

            /// The tag of each field, as the schema's field tables give it.
            #[allow(non_upper_case_globals)]
            pub(crate) mod tag {
                use crate::schema::{field_name, MessageType};
                $( pub(crate) const $field: u32 =
                    MessageType::$ty.tag_of(field_name(stringify!($field))); )*
            }

            /// What merging needs to keep, per field, across occurrences (nothing for a
            /// scalar).
            #[derive(Default)]
            #[allow(dead_code)]
            pub struct State<'a> {
                $( $field: crate::message::declared::message_types!(@state $kind $($arg)?), )*
                _input: core::marker::PhantomData<&'a [u8]>,
            }

            /// A message decoded from one or more occurrences of a message field, which
            /// merge as protobuf merges them.
            /// Nominally public, for the sealed `Merge` trait; not reachable from outside.
            #[derive(Default)]
            pub struct Merge<'a> {
                message: $ty<'a>,
                unknown: Tracker,
                state: State<'a>,
                /// The recursion depth left at each occurrence.
                depth: u32,
            }

            impl<'a> Merge<'a> {
                /// Merges one encoded occurrence, `r`, into what came before.
                #[inline(always)]
                pub(crate) fn add(&mut self, mut r: Reader<'a>, depth: u32) -> Result<(), DecodeError> {
                    self.depth = depth;
                    let (message, state) = (&mut self.message, &mut self.state);
                    while r.has_remaining() {
                        let start = r.pos();
                        match r.tag()? {
                            $( tag::$field => crate::message::declared::message_types!(@add $kind $($arg)?;
                                r, message, state, start, depth, $num, $field), )*
                            other => {
                                r.skip(other, start, depth)?;
                                self.unknown.add(start, r.pos());
                            }
                        }
                    }
                    let _ = state;
                    Ok(())
                }

                /// The message of one occurrence, whose bytes are `data`, followed in the
                /// input by the rest of `lookahead`.
                #[inline(always)]
                #[allow(unused_mut, unused_variables)]
                pub(crate) fn finish(self, data: &'a [u8], lookahead: &'a [u8]) -> $ty<'a> {
                    let Merge { mut message, unknown, state, depth } = self;
                    $( crate::message::declared::message_types!(@finish $kind $($arg)?;
                        message, state, depth, $field, data, lookahead); )*
                    message.unknown_fields = unknown.finish(data, MessageType::$ty, depth);
                    message
                }

                /// The message merged from several occurrences, which are the fields
                /// tagged `outer` in `span`, a run of the enclosing message's fields.
                #[allow(dead_code, unused_mut, unused_variables)]
                pub(crate) fn finish_merged(self, span: &'a [u8], outer: u8) -> $ty<'a> {
                    let Merge { mut message, unknown, state, depth } = self;
                    $( crate::message::declared::message_types!(@finish_merged $kind $($arg)?;
                        message, state, depth, $field, span, outer); )*
                    message.unknown_fields =
                        unknown.finish_merged(span, outer, MessageType::$ty, depth);
                    message
                }
            }

            impl<'a> $ty<'a> {
                /// Decodes one occurrence into `self`, as a repeated occurrence of a
                /// message field merges: fields present here overwrite, absent ones stay.
                /// Returns how many bytes of unknown fields this occurrence holds;
                /// `self.unknown_fields` is set to them. Only for a message of scalars,
                /// whose every field merges by overwriting (the declaration checks it).
                #[allow(dead_code)]
                #[inline]
                pub(crate) fn merge_from(&mut self, r: Reader<'a>, depth: u32) -> Result<usize, DecodeError> {
                    let (data, lookahead) = (r.data(), r.lookahead());
                    let mut merge = Merge { message: *self, ..Merge::default() };
                    merge.add(r, depth)?;
                    let unknown = merge.unknown.len();
                    *self = merge.finish(data, lookahead);
                    Ok(unknown)
                }
            }

            crate::message::declared::message_types!(@shape $shape $ty { $( $num $field : $kind $($arg)?, )* });

            impl<'a> Sealed<'a> for $ty<'a> {
                /// Any message the reference runtime accepts, in any field order. Inlined
                /// beside the fast path, so that both leave their result in registers
                /// (see [`Sealed::decode_at_depth`]).
                #[inline(always)]
                fn decode_any(r: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
                    let (data, lookahead) = (r.data(), r.lookahead());
                    let mut merge = Merge::default();
                    merge.add(r, depth)?;
                    Ok(merge.finish(data, lookahead))
                }

                #[inline(always)]
                fn decode_fast(r: Reader<'a>, depth: u32) -> Option<Self> {
                    Self::fast(r, depth)
                }

                #[cfg(debug_assertions)]
                fn same_repr(&self, other: &Self) -> bool {
                    self == other
                        && self.unknown_fields.same_repr(&other.unknown_fields)
                        $( && crate::message::declared::message_types!(@same_repr $kind $($arg)?; self.$field, other.$field) )*
                }

                #[inline(always)]
                fn fits(&self, depth: u32) -> bool {
                    self.unknown_fields.fit(MessageType::$ty, depth)
                        $( && crate::message::declared::message_types!(@fits $kind $($arg)?; self.$field, depth) )*
                }

                #[inline(always)]
                fn max_encoded_len(&self) -> usize {
                    // Varint fields count at their longest; unknown fields are at most
                    // isize::MAX bytes, so adding those constants cannot overflow.
                    let varints = 0 $( + crate::message::declared::message_types!(@varint_max $kind $($arg)?) )*;
                    (varints + self.unknown_fields.encoded_len())
                        $( .saturating_add(crate::message::declared::message_types!(@len_max $kind $($arg)?; self.$field)) )*
                }

                #[inline]
                fn write<S: Sink>(&self, sink: &mut S) {
                    $( crate::message::declared::message_types!(@write $shape $kind $($arg)?; sink, tag::$field, self.$field); )*
                    self.unknown_fields.write(sink);
                }
            }

            impl<'a> Message<'a> for $ty<'a> {
                #[inline(always)]
                fn encoded_len(&self) -> usize {
                    0 $( + crate::message::declared::message_types!(@len $kind $($arg)?; self.$field) )*
                        + self.unknown_fields.encoded_len()
                }
            }

            impl crate::unknown::private::Known for $ty<'_> {
                fn kind() -> MessageType {
                    MessageType::$ty
                }
            }
        }
    )* };

    // The Rust type of each kind.
    (@type uint64) => { u64 };
    (@type string) => { &'a str };
    (@type enumeration $e:ident) => { $e };
    (@type message $m:ident) => { Option<$m<'a>> };
    (@type repeated StreamHeader) => { Streams<'a> };

    (@state message $m:ident) => { Occurrences };
    (@state repeated $m:ident) => { StreamsTracker<'a> };
    (@state $kind:ident $($arg:ident)?) => { () };

    // The general path: one occurrence of the field, its tag read at `start`.
    (@add uint64; $r:ident, $m:ident, $st:ident, $start:ident, $depth:ident, $num:literal, $f:ident) => {
        $m.$f = $r.varint_field($num)?
    };
    (@add string; $r:ident, $m:ident, $st:ident, $start:ident, $depth:ident, $num:literal, $f:ident) => {
        $m.$f = $r.string_field($num)?
    };
    // An enum keeps the low 32 bits of the varint, as two's complement.
    (@add enumeration $e:ident; $r:ident, $m:ident, $st:ident, $start:ident, $depth:ident, $num:literal, $f:ident) => {
        $m.$f = $e::from_value($r.varint_field($num)? as i32)
    };
    (@add message $s:ident; $r:ident, $m:ident, $st:ident, $start:ident, $depth:ident, $num:literal, $f:ident) => {{
        const _: () = assert!(
            MessageType::$s.holds_scalars_only(),
            "a message field merges by overwriting its fields: they must be scalars"
        );
        let body = $r.message_field($num, $depth)?;
        let unknown = $m.$f.get_or_insert_with($s::default)
            .merge_from(body, $depth - 1)
            .map_err(|e| e.in_field($num))?;
        $st.$f.add($start, $r.pos(), unknown);
    }};
    (@add repeated $s:ident; $r:ident, $m:ident, $st:ident, $start:ident, $depth:ident, $num:literal, $f:ident) => {{
        let body = $r.message_field($num, $depth)?;
        $st.$f.add(body, $depth - 1, $num, $start, $r.pos())?;
    }};

    // A message field's unknown fields, when it occurred more than once, are picked out
    // of every occurrence; a repeated field keeps its occurrences where they lie.
    (@finish message $s:ident; $m:ident, $st:ident, $depth:ident, $f:ident, $data:ident, $la:ident) => {
        if let (Some(value), Some(span)) = (&mut $m.$f, $st.$f.span($data)) {
            value.unknown_fields = UnknownFields::picked(
                span,
                Path::within(tag::$f as u8),
                MessageType::$s,
                $depth - 1,
                $st.$f.unknown,
            );
        }
    };
    (@finish repeated $s:ident; $m:ident, $st:ident, $depth:ident, $f:ident, $data:ident, $la:ident) => {
        $m.$f = $st.$f.finish($data, $la);
    };
    (@finish $kind:ident $($arg:ident)?; $m:ident, $st:ident, $depth:ident, $f:ident, $data:ident, $la:ident) => {};

    (@finish_merged message $s:ident; $m:ident, $st:ident, $depth:ident, $f:ident, $span:ident, $outer:ident) => {
        if let (Some(value), true) = (&mut $m.$f, $st.$f.merged()) {
            value.unknown_fields = UnknownFields::picked(
                $span,
                Path::within_both($outer, tag::$f as u8),
                MessageType::$s,
                $depth - 1,
                $st.$f.unknown,
            );
        }
    };
    (@finish_merged repeated $s:ident; $m:ident, $st:ident, $depth:ident, $f:ident, $span:ident, $outer:ident) => {
        $m.$f = $st.$f.finish_merged($span, $outer);
    };
    (@finish_merged $kind:ident $($arg:ident)?; $m:ident, $st:ident, $depth:ident, $f:ident, $span:ident, $outer:ident) => {};

    // The fast path of a short message: one expression, each field's value returned
    // (its absence is the default), and the rest read as unknown fields. Its other
    // readers serve a message that is repeated somewhere (a RequestHeader's streams).
    (@shape short $ty:ident { $( $num:literal $field:ident : $kind:ident $($arg:ident)?, )* }) => {
        /// The known fields of a message without unknown fields.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub(crate) struct Values<'a> {
            $( pub(crate) $field: crate::message::declared::message_types!(@type $kind $($arg)?), )*
            _input: core::marker::PhantomData<&'a [u8]>,
        }

        #[allow(dead_code)]
        impl<'a> $ty<'a> {
            /// Two copies of the fast path, so that each varint site holds one way of
            /// reading (see `varint::decode_raw_spread`): a message followed by ten
            /// readable bytes reads from a window without checks; any other checks each
            /// byte. A message without varints has one.
            #[inline(always)]
            fn fast(r: Reader<'a>, depth: u32) -> Option<Self> {
                const VARINTS: bool = false $( || crate::message::declared::message_types!(@is_varint $kind) )*;
                if VARINTS && r.window_past_end() {
                    Self::fast_in::<true>(r, depth)
                } else {
                    Self::fast_in::<false>(r, depth)
                }
            }

            #[inline(always)]
            fn fast_in<const WINDOW: bool>(mut r: Reader<'a>, depth: u32) -> Option<Self> {
                Some($ty {
                    $( $field: crate::message::declared::message_types!(@short $kind $($arg)?; r, tag::$field, WINDOW)?, )*
                    unknown_fields: UnknownFields::rest_of(&mut r, MessageType::$ty, depth)?,
                })
            }

            /// The known fields.
            #[inline(always)]
            pub(crate) fn values(&self) -> Values<'a> {
                Values { $( $field: self.$field, )* _input: core::marker::PhantomData }
            }

            /// The message of these known fields and no unknown ones.
            #[inline(always)]
            pub(crate) fn from_values(values: Values<'a>) -> Self {
                $ty { $( $field: values.$field, )* unknown_fields: UnknownFields::EMPTY }
            }

            /// The known fields of a body that is exactly a canonical encoding without
            /// unknown fields (known fields once each, in order, one-byte tags, minimal
            /// and not zero); `None` for any other.
            #[inline(always)]
            #[allow(unused_mut)]
            pub(crate) fn fast_values(mut r: Reader<'a>) -> Option<Values<'a>> {
                let mut values = Values::default();
                $( crate::message::declared::message_types!(@canonical $kind $($arg)?; r, tag::$field, values.$field); )*
                (!r.has_remaining()).then_some(values)
            }

            /// [`Self::fast_values`] without the values: whether the body is exactly a
            /// canonical encoding without unknown fields.
            #[inline(always)]
            pub(crate) fn fast_check(mut r: Reader<'a>) -> Option<()> {
                $( crate::message::declared::message_types!(@check $kind $($arg)?; r, tag::$field); )*
                (!r.has_remaining()).then_some(())
            }

            /// The message in a body already checked by [`Self::fast_check`]. One way
            /// of reading each varint (`WINDOW` off: a window when ten bytes are
            /// readable, each byte checked when fewer), since a message's streams are
            /// read in one loop, where two copies would cost more than they save.
            #[inline(always)]
            pub(crate) fn checked(mut r: Reader<'a>) -> Option<Self> {
                Some($ty {
                    $( $field: crate::message::declared::message_types!(@short $kind $($arg)?; r, tag::$field, false)?, )*
                    unknown_fields: UnknownFields::EMPTY,
                })
            }

            /// Decodes a body and tells whether its bytes are already its canonical
            /// encoding, as [`Self::fast_values`] defines it but with unknown fields
            /// allowed after the known ones.
            #[inline(always)]
            pub(crate) fn decode_noting_canonical(
                mut r: Reader<'a>,
                depth: u32,
            ) -> Result<(Self, bool), DecodeError> {
                let mut message = $ty::default();
                let mut unknown = Tracker::default();
                // The tag of the last field read: known fields must rise, unknown ones
                // (ranked u32::MAX) come last.
                let mut last = 0u32;
                let mut canonical = true;
                while r.has_remaining() {
                    let start = r.pos();
                    let found = r.tag()?;
                    let one_byte_tag = r.pos() - start == 1;
                    let (rank, minimal) = match found {
                        $( tag::$field => (found, crate::message::declared::message_types!(@noting $kind $($arg)?;
                            r, $num, message.$field)), )*
                        other => {
                            r.skip(other, start, depth)?;
                            unknown.add(start, r.pos());
                            (u32::MAX, true)
                        }
                    };
                    canonical &= (rank > last && one_byte_tag && minimal) || rank == u32::MAX;
                    last = rank;
                }
                message.unknown_fields = unknown.finish(r.data(), MessageType::$ty, depth);
                Ok((message, canonical))
            }
        }
    };

    // The fast path of a long message: each field read into place.
    (@shape long $ty:ident { $( $num:literal $field:ident : $kind:ident $($arg:ident)?, )* }) => {
        impl<'a> $ty<'a> {
            #[inline(always)]
            fn fast(mut r: Reader<'a>, depth: u32) -> Option<Self> {
                $( crate::message::declared::message_types!(@before $kind $($arg)?; depth, inner, $field); )*
                let mut message = $ty::default();
                $( crate::message::declared::message_types!(@long $kind $($arg)?; r, inner, tag::$field, message.$field, $field); )*
                message.unknown_fields = UnknownFields::rest_of(&mut r, MessageType::$ty, depth)?;
                $( crate::message::declared::message_types!(@after $kind $($arg)?; r, message.$field, $field); )*
                Some(message)
            }
        }
    };

    (@short uint64; $r:ident, $tag:expr, $w:tt) => { $r.varint_spread_if::<$w>($tag) };
    (@short string; $r:ident, $tag:expr, $w:tt) => { $r.string_if($tag) };
    (@short enumeration $e:ident; $r:ident, $tag:expr, $w:tt) => {
        $r.varint_spread_if::<$w>($tag).map(|v| $e::from_value(v as i32))
    };
    (@short $kind:ident $($arg:ident)?; $r:ident, $tag:expr, $w:tt) => {
        compile_error!("a short message holds scalars only")
    };
    (@is_varint uint64) => { true };
    (@is_varint enumeration) => { true };
    (@is_varint $kind:ident) => { false };

    // Canonical reads for a repeated message's fast path. A string is never taken as
    // canonical there (its length prefix is not checked for minimality): the body
    // goes the general way, which is always correct.
    (@canonical uint64; $r:ident, $tag:expr, $v:expr) => {
        if $r.next_is($tag) {
            $v = $r.varint_canonical()?;
        }
    };
    (@canonical enumeration $e:ident; $r:ident, $tag:expr, $v:expr) => {
        if $r.next_is($tag) {
            let raw = $r.varint_canonical()?;
            if !crate::wire::varint::is_int32(raw) {
                return None;
            }
            $v = $e::from_value(raw as i32);
        }
    };
    (@canonical $kind:ident $($arg:ident)?; $r:ident, $tag:expr, $v:expr) => {
        if $r.next_is($tag) {
            return None;
        }
    };
    (@check uint64; $r:ident, $tag:expr) => {
        if $r.next_is($tag) {
            $r.skip_varint_canonical()?;
        }
    };
    (@check enumeration $e:ident; $r:ident, $tag:expr) => {
        if $r.next_is($tag) {
            if !crate::wire::varint::is_int32($r.varint_canonical()?) {
                return None;
            }
        }
    };
    (@check $kind:ident $($arg:ident)?; $r:ident, $tag:expr) => {
        if $r.next_is($tag) {
            return None;
        }
    };
    (@noting uint64; $r:ident, $num:literal, $v:expr) => {{
        let minimal;
        ($v, minimal) = $r.varint_field_canonical($num)?;
        minimal
    }};
    (@noting enumeration $e:ident; $r:ident, $num:literal, $v:expr) => {{
        let (raw, minimal) = $r.varint_field_canonical($num)?;
        $v = $e::from_value(raw as i32);
        minimal && crate::wire::varint::is_int32(raw)
    }};
    (@noting string; $r:ident, $num:literal, $v:expr) => {{
        $v = $r.string_field($num)?;
        false
    }};

    // A nested message needs a level of depth (the general path reports its absence);
    // a repeated one collects its occurrences in a tracker.
    (@before message $s:ident; $depth:ident, $inner:ident, $f:ident) => {
        let $inner = $depth.checked_sub(1)?;
    };
    (@before repeated $s:ident; $depth:ident, $inner:ident, $f:ident) => {
        let _ = $depth.checked_sub(1)?;
        let mut $f = StreamsTracker::default();
    };
    (@before $kind:ident $($arg:ident)?; $depth:ident, $inner:ident, $f:ident) => {};

    (@long uint64; $r:ident, $inner:ident, $tag:expr, $v:expr, $f:ident) => {
        $r.try_varint_field($tag, &mut $v)?;
    };
    (@long string; $r:ident, $inner:ident, $tag:expr, $v:expr, $f:ident) => {
        $r.try_string_field($tag, &mut $v)?;
    };
    (@long enumeration $e:ident; $r:ident, $inner:ident, $tag:expr, $v:expr, $f:ident) => {
        if $r.next_is($tag) {
            $v = $e::from_value($r.try_varint()? as i32);
        }
    };
    (@long message $s:ident; $r:ident, $inner:ident, $tag:expr, $v:expr, $f:ident) => {
        if $r.next_is($tag) {
            $v = Some($s::decode_fast($r.try_length_delimited()?, $inner)?);
        }
    };
    // The first occurrences' values are kept, the others' only checked (read again
    // when iterated): two loops, so that neither tests which it is per occurrence.
    (@long repeated $s:ident; $r:ident, $inner:ident, $tag:expr, $v:expr, $f:ident) => {
        while !$f.is_full() {
            let start = $r.pos();
            if !$r.next_is($tag) {
                break;
            }
            $f.add_exact::<true>(&mut $r, start)?;
        }
        loop {
            let start = $r.pos();
            if !$r.next_is($tag) {
                break;
            }
            $f.add_exact::<false>(&mut $r, start)?;
        }
    };

    (@after repeated $s:ident; $r:ident, $v:expr, $f:ident) => {
        $v = $f.finish($r.data(), $r.lookahead());
    };
    (@after $kind:ident $($arg:ident)?; $r:ident, $v:expr, $f:ident) => {};

    // Strings, messages and streams must also lie at the same places of the input.
    (@same_repr string; $a:expr, $b:expr) => { core::ptr::eq($a, $b) };
    (@same_repr message $s:ident; $a:expr, $b:expr) => {
        match (&$a, &$b) {
            (Some(a), Some(b)) => a.same_repr(b),
            (a, b) => a.is_none() && b.is_none(),
        }
    };
    (@same_repr repeated $s:ident; $a:expr, $b:expr) => { $a.same_repr(&$b) };
    (@same_repr $kind:ident $($arg:ident)?; $a:expr, $b:expr) => { true };

    (@fits message $s:ident; $v:expr, $depth:ident) => {
        $v.as_ref().is_none_or(|value| value.fits($depth.saturating_sub(1)))
    };
    (@fits repeated $s:ident; $v:expr, $depth:ident) => { $v.fit($depth.saturating_sub(1)) };
    (@fits $kind:ident $($arg:ident)?; $v:expr, $depth:ident) => { true };

    (@varint_max uint64) => { size::VARINT_FIELD_MAX };
    (@varint_max enumeration $e:ident) => { size::VARINT_FIELD_MAX };
    (@varint_max $kind:ident $($arg:ident)?) => { 0 };

    (@len_max string; $v:expr) => { size::bytes_max($v.len()) };
    (@len_max message $s:ident; $v:expr) => {
        match &$v {
            Some(value) => size::bytes_max(value.max_encoded_len()),
            None => 0,
        }
    };
    (@len_max repeated $s:ident; $v:expr) => { $v.max_encoded_len() };
    (@len_max $kind:ident $($arg:ident)?; $v:expr) => { 0 };

    (@len uint64; $v:expr) => { size::uint64($v) };
    (@len string; $v:expr) => { size::string($v) };
    (@len enumeration $e:ident; $v:expr) => { size::enumeration($v.value()) };
    (@len message $s:ident; $v:expr) => {
        match &$v {
            Some(value) => size::bytes(value.encoded_len()),
            None => 0,
        }
    };
    (@len repeated $s:ident; $v:expr) => { $v.encoded_len() };

    (@write $shape:ident uint64; $sink:ident, $tag:expr, $v:expr) => {
        $sink.put_uint64_field($tag, $v)
    };
    // A short message's strings are names, mostly under 128 bytes.
    (@write short string; $sink:ident, $tag:expr, $v:expr) => {
        $sink.put_short_string_field($tag, $v)
    };
    (@write long string; $sink:ident, $tag:expr, $v:expr) => {
        $sink.put_string_field($tag, $v)
    };
    (@write $shape:ident enumeration $e:ident; $sink:ident, $tag:expr, $v:expr) => {
        $sink.put_enum_field($tag, $v.value())
    };
    (@write $shape:ident message $s:ident; $sink:ident, $tag:expr, $v:expr) => {
        if let Some(value) = &$v {
            $sink.put_tag($tag);
            $sink.put_varint(value.encoded_len() as u64);
            value.write($sink);
        }
    };
    (@write $shape:ident repeated $s:ident; $sink:ident, $tag:expr, $v:expr) => {
        $v.write($sink)
    };
}

pub(crate) use message_types;
