//! Evaluating a [`Condition`] on a plaintext item with DynamoDB's semantics: the re-check that
//! drops beacon collisions from query results.

use std::cmp::Ordering;

use super::error::SearchError;
use super::query::{CompareOp, Condition, Operand};
use crate::item::{AttributeValue, normalize_number};

/// Resolves a name in a condition to its plaintext value in one item (`None`: absent).
pub(crate) type Resolve<'a> = dyn Fn(&str) -> Result<Option<AttributeValue>, SearchError> + 'a;

/// True when `condition` holds for the item `resolve` reads.
pub(crate) fn evaluate(condition: &Condition, resolve: &Resolve<'_>) -> Result<bool, SearchError> {
    let value = |operand: &Operand| -> Result<Option<AttributeValue>, SearchError> {
        match operand {
            Operand::Attr(name) => resolve(name),
            Operand::Path(path) => Ok(resolve(path.attribute())?.and_then(|top| path.select(&top).cloned())),
            Operand::Value(value) => Ok(Some(value.clone())),
        }
    };
    Ok(match condition {
        Condition::Compare(a, op, b) => match (value(a)?, value(b)?) {
            (Some(a), Some(b)) => compare(&a, *op, &b),
            // DynamoDB: `a <> b` holds when one side is missing; every other comparison fails.
            _ => *op == CompareOp::Ne,
        },
        Condition::Between(a, low, high) => match (value(a)?, value(low)?, value(high)?) {
            (Some(a), Some(low), Some(high)) => compare(&a, CompareOp::Ge, &low) && compare(&a, CompareOp::Le, &high),
            _ => false,
        },
        Condition::In(a, list) => match value(a)? {
            Some(a) => {
                let mut found = false;
                for candidate in list {
                    if value(candidate)?.is_some_and(|c| equal(&a, &c)) {
                        found = true;
                        break;
                    }
                }
                found
            }
            None => false,
        },
        Condition::BeginsWith(a, prefix) => match (value(a)?, value(prefix)?) {
            (Some(AttributeValue::S(a)), Some(AttributeValue::S(p))) => a.starts_with(&p),
            (Some(AttributeValue::B(a)), Some(AttributeValue::B(p))) => a.starts_with(&p),
            _ => false,
        },
        Condition::Contains(a, b) => match (value(a)?, value(b)?) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
        Condition::Exists(name) => resolve(name)?.is_some(),
        Condition::NotExists(name) => resolve(name)?.is_none(),
        Condition::And(parts) => {
            for part in parts {
                if !evaluate(part, resolve)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Or(parts) => {
            for part in parts {
                if evaluate(part, resolve)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(inner) => !evaluate(inner, resolve)?,
    })
}

/// `a op b`: equality on any types, order only between two strings (UTF-8 bytes), two numbers
/// (by value) or two binaries.
fn compare(a: &AttributeValue, op: CompareOp, b: &AttributeValue) -> bool {
    match op {
        CompareOp::Eq => equal(a, b),
        CompareOp::Ne => !equal(a, b),
        _ => match order(a, b) {
            Some(ordering) => match op {
                CompareOp::Lt => ordering == Ordering::Less,
                CompareOp::Le => ordering != Ordering::Greater,
                CompareOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            },
            None => false,
        },
    }
}

fn order(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        (AttributeValue::N(a), AttributeValue::N(b)) => number_order(a, b),
        _ => None,
    }
}

/// Numbers by value; `None` when either is not a number.
pub(crate) fn number_order(a: &str, b: &str) -> Option<Ordering> {
    let a = normalize_number(a).ok()?;
    let b = normalize_number(b).ok()?;
    let (a_negative, a) = a.strip_prefix('-').map_or((false, a.as_str()), |rest| (true, rest));
    let (b_negative, b) = b.strip_prefix('-').map_or((false, b.as_str()), |rest| (true, rest));
    let magnitude = || {
        let (a_int, a_frac) = a.split_once('.').unwrap_or((a, ""));
        let (b_int, b_frac) = b.split_once('.').unwrap_or((b, ""));
        a_int.len().cmp(&b_int.len()).then_with(|| a_int.cmp(b_int)).then_with(|| a_frac.cmp(b_frac))
    };
    Some(match (a_negative, b_negative) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude(),
        (true, true) => magnitude().reverse(),
    })
}

/// DynamoDB equality: numbers by value, sets as sets, lists and maps element-wise.
fn equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::N(a), V::N(b)) => number_order(a, b) == Some(Ordering::Equal),
        (V::Ss(a), V::Ss(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
        (V::Bs(a), V::Bs(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
        (V::Ns(a), V::Ns(b)) => {
            a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| number_order(x, y) == Some(Ordering::Equal)))
        }
        (V::L(a), V::L(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y)),
        (V::M(a), V::M(b)) => a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| equal(x, y))),
        _ => a == b,
    }
}

/// `contains(a, b)`: substring of a string (or binary), member of a set, element of a list.
fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::S(a), V::S(b)) => a.contains(b.as_str()),
        (V::B(a), V::B(b)) => b.is_empty() || a.windows(b.len()).any(|w| w == b.as_slice()),
        (V::Ss(set), V::S(b)) => set.contains(b),
        (V::Bs(set), V::B(b)) => set.contains(b),
        (V::Ns(set), V::N(b)) => set.iter().any(|x| number_order(x, b) == Some(Ordering::Equal)),
        (V::L(list), b) => list.iter().any(|x| equal(x, b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::AttributeValue as V;

    fn n(text: &str) -> V {
        V::N(text.into())
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(number_order("0800.000e0", "800"), Some(Ordering::Equal));
        assert_eq!(number_order("9", "10"), Some(Ordering::Less));
        assert_eq!(number_order("-9", "-10"), Some(Ordering::Greater));
        assert_eq!(number_order("1.05", "1.5"), Some(Ordering::Less));
        assert_eq!(number_order("-0.5", "0"), Some(Ordering::Less));
        assert_eq!(number_order("x", "0"), None);
        assert!(compare(&n("2"), CompareOp::Gt, &n("10e-1")));
        assert!(!compare(&n("2"), CompareOp::Gt, &V::S("1".into())), "no order across types");
    }

    #[test]
    fn strings_compare_by_utf8_bytes() {
        // UTF-16 puts U+1F600 (a surrogate pair, 0xD83D…) before U+FF61; DynamoDB and UTF-8 do not.
        let bmp_high = V::S("\u{FF61}".into());
        let supplementary = V::S("\u{1F600}".into());
        assert!(compare(&bmp_high, CompareOp::Lt, &supplementary), "UTF-8 order, not UTF-16");
    }

    #[test]
    fn sets_lists_and_missing_values() {
        let resolve = |name: &str| -> Result<Option<V>, SearchError> {
            Ok(match name {
                "ss" => Some(V::Ss(vec!["a".into(), "b".into()])),
                "l" => Some(V::L(vec![n("1"), V::S("x".into())])),
                "s" => Some(V::S("hello".into())),
                _ => None,
            })
        };
        let holds = |c: Condition| evaluate(&c, &resolve).unwrap();
        assert!(holds(Condition::eq("ss", V::Ss(vec!["b".into(), "a".into()]))));
        assert!(holds(Condition::contains("ss", V::S("a".into()))));
        assert!(holds(Condition::contains("l", n("1.0"))));
        assert!(holds(Condition::contains("s", V::S("ell".into()))));
        assert!(holds(Condition::Contains(Operand::Value(V::S("say hello!".into())), Operand::attr("s")).not().not()));
        assert!(!holds(Condition::eq("missing", n("1"))));
        assert!(holds(Condition::compare("missing", CompareOp::Ne, n("1"))));
        assert!(holds(Condition::NotExists("missing".into())));
        assert!(!holds(Condition::Or(vec![])));
        assert!(holds(Condition::And(vec![])));
        assert!(holds(Condition::in_list("s", [n("1"), V::S("hello".into())])));
        assert!(holds(Condition::between("s", V::S("a".into()), V::S("i".into()))));
        assert!(!holds(Condition::begins_with("s", V::S("x".into()))));
    }
}
