//! Three-valued (Kleene) logic: what the model knows about a statement, a condition or a match.

use std::fmt;
use std::ops::Not;

/// True, false, or not decidable because a value is an unresolved Terraform expression.
///
/// Kleene's strong logic keeps unknowns sound: `Unknown AND False` is `False` because the outcome
/// does not depend on the unknown; `Unknown OR False` stays `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    /// Holds for every value the unknowns could take.
    True,
    /// Fails for every value the unknowns could take.
    False,
    /// Depends on a value the model cannot resolve.
    Unknown,
}

impl Tri {
    /// Kleene conjunction.
    #[must_use]
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    /// Kleene disjunction.
    #[must_use]
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    /// Disjunction over an iterator; `False` when empty. Stops at the first `True`, which
    /// decides it, so the items after it are not computed.
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        Self::fold_until(items, Tri::False, Tri::or, Tri::True)
    }

    /// Conjunction over an iterator; `True` when empty. Stops at the first `False`.
    pub fn all<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        Self::fold_until(items, Tri::True, Tri::and, Tri::False)
    }

    /// Folds `items` with `combine` from `start`, up to the first `decisive` result, which no
    /// further item can change.
    fn fold_until<I: IntoIterator<Item = Tri>>(
        items: I,
        start: Tri,
        combine: fn(Tri, Tri) -> Tri,
        decisive: Tri,
    ) -> Tri {
        let mut result = start;
        for item in items {
            result = combine(result, item);
            if result == decisive {
                break;
            }
        }
        result
    }

    /// Whether this may be true (`True` or `Unknown`).
    #[must_use]
    pub fn possible(self) -> bool {
        self != Tri::False
    }
}

/// Kleene negation: unknown stays unknown.
impl Not for Tri {
    type Output = Tri;

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

impl From<bool> for Tri {
    fn from(value: bool) -> Self {
        if value { Tri::True } else { Tri::False }
    }
}

impl fmt::Display for Tri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tri::True => "true",
            Tri::False => "false",
            Tri::Unknown => "unknown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kleene's tables, and the item that decides a fold ends it: the rest are not computed.
    #[test]
    fn folds_follow_kleene_and_stop_at_the_deciding_item() {
        use Tri::{False, True, Unknown};
        assert_eq!(Tri::any([]), False);
        assert_eq!(Tri::all([]), True);
        assert_eq!(Tri::any([False, Unknown]), Unknown);
        assert_eq!(Tri::all([True, Unknown]), Unknown);
        assert_eq!(Tri::any([Unknown, True]), True);
        assert_eq!(Tri::all([Unknown, False]), False);
        let computed = std::cell::Cell::new(0);
        let counted = |items: &'static [Tri]| {
            items.iter().map(|item| {
                computed.set(computed.get() + 1);
                *item
            })
        };
        assert_eq!(Tri::any(counted(&[Unknown, True, False, Unknown])), True);
        assert_eq!(computed.replace(0), 2);
        assert_eq!(Tri::all(counted(&[True, False, Unknown, True])), False);
        assert_eq!(computed.replace(0), 2);
    }
}
