//! The pipelines end to end on token streams: what each macro writes, and that every
//! mistake of one invocation is reported at once, next to the user's item.

use proc_macro2::TokenStream;
use quote::quote;

fn text(ts: TokenStream) -> String {
    ts.to_string()
}

fn error_count(out: &str) -> usize {
    out.matches("compile_error").count()
}

#[test]
fn main_writes_the_arguments_as_checked_values() {
    let out = text(crate::entry::main(
        quote!(
            timeout = "1m30s",
            drain = 10,
            signals = ["term", "2"],
            flavor = "current_thread",
            config = "a.toml"
        ),
        quote!(
            async fn main(shutdown: graceful::Shutdown) -> std::io::Result<()> {
                Ok(())
            }
        ),
    ));
    assert_eq!(error_count(&out), 0, "{out}");
    // Configuration arguments travel as (configuration key, typed value): a duration stays a
    // `Duration`, never text the engine parses again.
    assert!(
        out.contains("(\"timeout\" , :: graceful :: ArgValue :: Duration (:: std :: time :: Duration :: new (90u64 , 0u32)))"),
        "{out}"
    );
    assert!(
        out.contains("(\"drain_timeout\" , :: graceful :: ArgValue :: Duration (:: std :: time :: Duration :: new (10u64 , 0u32)))"),
        "{out}"
    );
    assert!(
        out.contains(
            "(\"signals\" , :: graceful :: ArgValue :: Signals (& [\"SIGTERM\" , \"SIGINT\"]))"
        ),
        "signal names are canonical: {out}"
    );
    assert!(out.contains("Flavor :: CurrentThread"), "{out}");
    assert!(out.contains("Some (\"a.toml\")"), "{out}");
    assert!(
        out.contains("fn main () -> :: std :: process :: ExitCode"),
        "{out}"
    );
    assert!(
        out.contains("async fn __graceful_main (shutdown : graceful :: Shutdown)"),
        "{out}"
    );
    assert!(
        out.contains("graceful :: Entry :: from_args (__graceful_args) . run (__graceful_main)"),
        "the user's main is passed as the FnOnce itself, no closure: {out}"
    );
    assert!(out.contains("expect_resources : 0"), "{out}");
}

#[test]
fn main_without_a_parameter_ignores_the_handle_and_honours_crate() {
    let out = text(crate::entry::main(
        quote!(crate = "my::graceful"),
        quote!(
            async fn main() {}
        ),
    ));
    assert_eq!(error_count(&out), 0, "{out}");
    assert!(out.contains("| _ | __graceful_main ()"), "{out}");
    assert!(
        out.contains("my :: graceful :: Entry :: from_args"),
        "{out}"
    );
    assert!(
        !out.replace("my :: graceful", "").contains("graceful ::"),
        "only the given path is used: {out}"
    );
}

#[test]
fn main_reports_every_argument_error_and_still_expands() {
    let out = text(crate::entry::main(
        quote!(
            timeout = "30x",
            tiemout = "1s",
            drain = "5s",
            drain = "6s",
            signals = ["SIGFOO"]
        ),
        quote!(
            async fn main() {}
        ),
    ));
    assert_eq!(error_count(&out), 4, "{out}");
    assert!(out.contains("did you mean `timeout`"), "{out}");
    assert!(out.contains("`drain` is given more than once"), "{out}");
    assert!(
        out.contains("Entry :: from_args"),
        "the function is still expanded, so its body is checked: {out}"
    );
}

#[test]
fn main_errors_in_the_signature_keep_the_body_without_async_main() {
    let out = text(crate::entry::main(
        quote!(),
        quote!(
            async fn main<T>(a: u8, b: u8) {
                let _ = (a, b);
            }
        ),
    ));
    assert_eq!(
        error_count(&out),
        3,
        "generics, a non-Shutdown parameter, a second parameter: {out}"
    );
    assert!(
        out.starts_with("fn main () {"),
        "an outer sync `main` hides the async one: {out}"
    );
}

#[test]
fn resource_writes_the_registration() {
    let out = text(crate::resource::resource(
        quote!(priority = -3, close = "flush", name = "cache"),
        quote!(
            async fn make(db: graceful::Res<Db>, kv: Res<Kv>) -> anyhow::Result<Cache> {
                body()
            }
        ),
    ));
    assert_eq!(error_count(&out), 0, "{out}");
    assert!(
        out.starts_with("async fn make"),
        "the constructor is kept as written: {out}"
    );
    assert!(out.contains("Resource :: new (\"cache\" , - 3i32"), "{out}");
    assert!(out.contains("dependency :: < Db > (& __res) ?"), "{out}");
    assert!(
        out.contains(". depends_on :: < Db > () . depends_on :: < Kv > ()"),
        "{out}"
    );
    assert!(
        out.contains("let __out = make (__dep0 , __dep1) . await ;"),
        "{out}"
    );
    assert!(
        out.contains("(& __out) . __graceful_constructed () . into_resource (__out)"),
        "whether it can fail is read from the type, not from the word `Result`: {out}"
    );
    assert!(out.contains("__v . flush ()"), "{out}");
    assert!(
        out.contains("__private :: close_method (") && out.contains(", \"flush\" ,"),
        "{out}"
    );
    assert!(out.contains("inventory :: submit !"), "{out}");
}

#[test]
fn resource_without_close_or_result_uses_the_default_close_and_ok() {
    let out = text(crate::resource::resource(
        quote!(),
        quote!(
            fn plain() -> Plain {
                Plain
            }
        ),
    ));
    assert_eq!(error_count(&out), 0, "{out}");
    assert!(
        out.contains("Resource :: new (\"plain\" , 0i32"),
        "priority defaults to 0: {out}"
    );
    assert!(
        out.contains("let __out = plain () ;"),
        "no `.await` for a sync constructor: {out}"
    );
    assert!(
        out.contains("DefaultClose :: of (& __graceful_resource)"),
        "{out}"
    );
}

#[test]
fn resource_reports_argument_and_signature_errors_together() {
    let out = text(crate::resource::resource(
        quote!(priority = "high", close = 5, name = ""),
        quote!(
            fn make<T>(x: u32) -> T {
                body()
            }
        ),
    ));
    assert_eq!(error_count(&out), 5, "{out}");
    assert!(
        out.starts_with("fn make"),
        "the item is kept next to the errors: {out}"
    );
    assert!(!out.contains("submit"), "{out}");
}

#[test]
fn derive_closes_fields_in_order_and_bounds_generic_parameters() {
    let out = text(crate::close::derive(quote! {
        struct S<T, U> {
            a: T,
            #[close(skip)] b: Other,
            #[close(method = "flush")] c: Cache,
            d: std::marker::PhantomData<U>,
        }
    }));
    assert_eq!(error_count(&out), 0, "{out}");
    let a = out.find("push (\"a\"").expect("a closed");
    let c = out.find("push (\"c\"").expect("c closed");
    let d = out.find("push (\"d\"").expect("d probed");
    assert!(a < c && c < d, "declaration order: {out}");
    assert!(!out.contains("push (\"b\""), "skipped: {out}");
    assert!(out.contains("T : :: graceful :: Close"), "{out}");
    assert!(
        out.contains("U : :: graceful :: Close"),
        "U appears in a probed field: {out}"
    );
}

#[test]
fn derive_reports_misplaced_and_contradicting_attributes_together() {
    let out = text(crate::close::derive(quote! {
        #[close(skip)]
        struct S {
            #[close(with = "x")] a: A,
            #[close(skip, skip)] b: B,
            #[close(skip, method = "m")] c: C,
            #[close(methd = "m")] d: D,
        }
    }));
    assert_eq!(error_count(&out), 5, "{out}");
    assert!(out.contains("did you mean `method`"), "{out}");
    assert!(
        out.contains("unreachable"),
        "a fallback impl avoids cascading errors: {out}"
    );
}

#[test]
fn state_implements_snapshot_and_registers_with_the_defaults() {
    let out = text(crate::state::state(
        quote!(),
        quote!(
            #[derive(Default)]
            struct JobQueue {
                pending: Vec<u64>,
            }
        ),
    ));
    assert_eq!(error_count(&out), 0, "{out}");
    assert!(out.contains("struct JobQueue"), "the item stays: {out}");
    assert!(
        out.contains("const NAME : & 'static str = \"job_queue\""),
        "{out}"
    );
    assert!(out.contains("const VERSION : u32 = 1u32"), "{out}");
    assert!(
        out.contains("saved_state :: < JobQueue > (1000i32)"),
        "{out}"
    );
    assert!(out.contains("StateRegistration :: new"), "{out}");
}

#[test]
fn state_reports_every_argument_error_and_keeps_the_item() {
    let out = text(crate::state::state(
        quote!(name = "a/b", version = "2", priority = 1.5, colour = 3),
        quote!(
            struct Jobs;
        ),
    ));
    assert_eq!(error_count(&out), 4, "{out}");
    assert!(out.contains("struct Jobs"), "{out}");
    assert!(out.contains("cannot name a file"), "{out}");
    assert!(out.contains("`version` is a number, not a string"), "{out}");
}

#[test]
fn state_without_the_feature_names_the_feature_and_keeps_the_item() {
    let out = text(crate::state::without_feature(quote!(
        struct Jobs;
    )));
    assert_eq!(error_count(&out), 1, "{out}");
    assert!(out.contains("struct Jobs"), "{out}");
    assert!(out.contains("features = [\\\"state\\\"]"), "{out}");
}
