//! `#[graceful::state]`: checks the arguments and the type.

use syn::{Expr, ExprLit, Generics, Ident, Lit, LitStr, UnOp};

use super::parse::Key;
use crate::common::args::{Arg, Known, Value, known};
use crate::common::{CratePath, Errors, string, unparen};

/// The priority of a saved state when none is given: above every resource that usually
/// reads it, so it is restored before them and saved (in `SavingState`) before any closes.
pub(crate) const DEFAULT_PRIORITY: i32 = 1000;

/// The checked arguments.
pub(crate) struct StateConfig {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: u32,
    pub(crate) priority: i32,
    pub(crate) krate: CratePath,
}

fn integer<T: std::str::FromStr>(value: &Expr, key: &str, accepted: &str) -> syn::Result<T>
where
    T::Err: std::fmt::Display,
{
    let (negative, lit) = match unparen(value) {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, unparen(&u.expr)),
        other => (false, other),
    };
    match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let digits = if negative {
                format!("-{}", i.base10_digits())
            } else {
                i.base10_digits().to_owned()
            };
            digits.parse::<T>().map_err(|e| {
                syn::Error::new_spanned(value, format!("`{key} = {digits}`: {e}; {accepted}"))
            })
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Err(syn::Error::new_spanned(
            value,
            format!(
                "`{key}` is a number, not a string: write `{key} = {}`",
                s.value()
            ),
        )),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes an integer literal; {accepted}"),
        )),
    }
}

fn name(value: &Expr) -> syn::Result<LitStr> {
    let lit = string(value, "name", "jobs")?;
    let text = lit.value();
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(lit)
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!(
                "`name = {text:?}` cannot name a file: use letters, digits, `-` and `_` (it becomes `<state_dir>/<name>.snapshot`)"
            ),
        ))
    }
}

/// Checks the arguments; duplicates are reported at the second occurrence.
pub(crate) fn args(raw: Vec<Arg<Key>>, errors: &mut Errors) -> StateConfig {
    let mut config = StateConfig {
        name: None,
        version: 1,
        priority: DEFAULT_PRIORITY,
        krate: CratePath::default(),
    };
    for Known { key, value, .. } in known(raw, errors) {
        let Value::Expr(value) = value else {
            continue;
        };
        match key {
            Key::Name => config.name = errors.keep(name(&value)),
            Key::Version => {
                if let Some(v) = errors.keep(integer::<u32>(
                    &value,
                    "version",
                    "the version is a whole number from 0 to 4294967295",
                )) {
                    config.version = v;
                }
            }
            Key::Priority => {
                if let Some(p) = errors.keep(integer::<i32>(
                    &value,
                    "priority",
                    "the priority is an `i32`, such as `priority = 1000`",
                )) {
                    config.priority = p;
                }
            }
            Key::Crate => {
                if let Some(lit) = errors.keep(string(&value, "crate", "graceful"))
                    && let Some(path) = errors.keep(CratePath::parse(&lit))
                {
                    config.krate = path;
                }
            }
        }
    }
    config
}

/// The type the state is: not generic (one snapshot file per type).
pub(crate) fn target(ident: Ident, generics: &Generics) -> syn::Result<Ident> {
    if let Some(param) = generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`#[graceful::state]` cannot go on a generic type: each saved state is one file with one type; \
             write a concrete type, or implement `graceful::state::Snapshot` and register it with `saved_state::<T>()`",
        ));
    }
    Ok(ident)
}

/// `JobQueue` → `job_queue`: the default snapshot name.
pub(crate) fn snake_case(ident: &Ident) -> String {
    let text = ident.to_string();
    let text = text.trim_start_matches("r#");
    let mut out = String::with_capacity(text.len() + 4);
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
