//! The two open enums of `atomix.headers`. Any int32 is a valid value: a status code added
//! by a newer schema revision (3 to 14) passes through unchanged instead of collapsing to
//! `OK`.

use core::fmt;

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i32);

        impl $name {
            $($(#[$vmeta])* pub const $variant: Self = Self($value);)+

            /// The value as it is on the wire.
            pub const fn value(self) -> i32 {
                self.0
            }

            /// Wraps any value, known or not.
            pub const fn from_value(value: i32) -> Self {
                Self(value)
            }

            /// The name the schema gives this value, or `None` for a value it does not list.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($variant)),)+
                    _ => None,
                }
            }

            /// The value the schema names `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($variant) => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// Whether the schema lists this value.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl From<i32> for $name {
            fn from(value: i32) -> Self {
                Self(value)
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value.0
            }
        }

        /// The schema's name, or the number for a value it does not list (as protoc prints).
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}", self.0),
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

open_enum! {
    /// `atomix.headers.ResponseStatus`, an open enum.
    ///
    /// ```
    /// use atomix_headers::ResponseStatus;
    ///
    /// assert_eq!(ResponseStatus::NOT_LEADER.value(), 2);
    /// let newer = ResponseStatus::from_value(5); // added by a later schema revision
    /// assert_eq!((newer.name(), newer.to_string()), (None, "5".to_string()));
    /// match newer {
    ///     ResponseStatus::OK => unreachable!(),
    ///     other => assert!(!other.is_known()),
    /// }
    /// ```
    ResponseStatus {
        /// The request succeeded.
        OK = 0,
        /// The request failed.
        ERROR = 1,
        /// The contacted node is not the leader; see the response's `leader`.
        NOT_LEADER = 2,
    }
}

open_enum! {
    /// `atomix.headers.ResponseType`, an open enum.
    ///
    /// ```
    /// use atomix_headers::ResponseType;
    ///
    /// assert_eq!(ResponseType::default(), ResponseType::RESPONSE);
    /// assert_eq!(ResponseType::from(1).name(), Some("OPEN_STREAM"));
    /// ```
    ResponseType {
        /// A plain response.
        RESPONSE = 0,
        /// The response opens a stream.
        OPEN_STREAM = 1,
        /// The response closes a stream.
        CLOSE_STREAM = 2,
    }
}
