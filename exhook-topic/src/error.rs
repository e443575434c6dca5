use std::fmt;
use std::ops::Range;

/// Why a topic filter is invalid, and where.
///
/// ```
/// let err = exhook_topic::validate("a/b#").unwrap_err();
/// assert_eq!(err.kind(), exhook_topic::FilterErrorKind::HashNotWholeLevel);
/// assert_eq!(err.span(), 3..4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    kind: FilterErrorKind,
    span: Range<usize>,
}

/// The rule a topic filter breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterErrorKind {
    /// The filter is the empty string.
    Empty,
    /// The filter is longer than 65,535 bytes.
    TooLong,
    /// The filter contains U+0000.
    Nul,
    /// A `#` shares its level with other characters (`a/b#`).
    HashNotWholeLevel,
    /// A `#` level is followed by more levels (`a/#/b`).
    HashNotLast,
    /// A `+` shares its level with other characters (`a/b+`).
    PlusNotWholeLevel,
    /// `$share/<group>` with nothing after the group.
    ShareMissingFilter,
    /// `$share//…`: the group name is empty.
    ShareEmptyGroup,
    /// The share group name contains `+` or `#`.
    ShareGroupWildcard,
    /// `$share/<group>/`, `$queue/` or `$exclusive/` with an empty filter.
    ShareEmptyFilter,
    /// The filter of a shared subscription starts with `$share/` or `$queue/` again.
    ShareNested,
}

impl FilterError {
    pub(crate) fn new(kind: FilterErrorKind, span: Range<usize>) -> Self {
        Self { kind, span }
    }

    /// Which rule the filter breaks.
    pub fn kind(&self) -> FilterErrorKind {
        self.kind
    }

    /// The byte range of the filter that breaks the rule.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl FilterErrorKind {
    /// The rule that was broken, with its source, for notes in diagnostics.
    pub fn rule(self) -> &'static str {
        match self {
            Self::Empty => "a topic filter is at least one character long (MQTT 5.0 §4.7.3)",
            Self::TooLong => {
                "a topic filter is at most 65,535 bytes of UTF-8 (MQTT 5.0 §4.7.3, §1.5.4)"
            }
            Self::Nul => "a topic filter never contains U+0000 (MQTT 5.0 §4.7.3)",
            Self::HashNotWholeLevel | Self::HashNotLast => {
                "`#` stands alone as the last level, as in `sport/#` (MQTT 5.0 §4.7.1.2)"
            }
            Self::PlusNotWholeLevel => {
                "`+` stands alone in its level, as in `sport/+/player` (MQTT 5.0 §4.7.1.3)"
            }
            Self::ShareMissingFilter | Self::ShareEmptyGroup | Self::ShareEmptyFilter => {
                "a shared subscription is `$share/<group>/<filter>` with both parts non-empty (MQTT 5.0 §4.8.2)"
            }
            Self::ShareGroupWildcard => {
                "a share group name never contains `+` or `#` (MQTT 5.0 §4.8.2)"
            }
            Self::ShareNested => {
                "EMQX rejects `$share/` and `$queue/` as the filter of a shared subscription"
            }
        }
    }
}

impl fmt::Display for FilterErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty topic filter",
            Self::TooLong => "topic filter longer than 65,535 bytes",
            Self::Nul => "topic filter contains U+0000",
            Self::HashNotWholeLevel => "`#` must be a whole level",
            Self::HashNotLast => "`#` must be the last level",
            Self::PlusNotWholeLevel => "`+` must be a whole level",
            Self::ShareMissingFilter => "`$share/<group>` has no filter after the group",
            Self::ShareEmptyGroup => "empty share group name",
            Self::ShareGroupWildcard => "share group name contains a wildcard",
            Self::ShareEmptyFilter => "empty filter after the subscription prefix",
            Self::ShareNested => "shared subscription of a `$share/` or `$queue/` filter",
        })
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid topic filter: {} (bytes {}..{})",
            self.kind, self.span.start, self.span.end
        )
    }
}

impl std::error::Error for FilterError {}
