//! [`Progress`]: what reading a frame from a buffer that may not hold all of it yet gives.

/// The result of reading from a buffer that may not hold a whole frame yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress<T> {
    /// The frame was complete.
    Complete(T),
    /// The buffer ends inside the frame: at least this many more bytes are needed.
    /// Nothing was consumed.
    Partial(usize),
}

impl<T> Progress<T> {
    /// The value, if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Progress::Complete(value) => Some(value),
            Progress::Partial(_) => None,
        }
    }

    /// Whether the frame was complete.
    pub fn is_complete(&self) -> bool {
        matches!(self, Progress::Complete(_))
    }
}
