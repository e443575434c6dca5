//! Compile-time diagnostics: every misuse in `ui/fail` is one clear error at
//! the token that is wrong (see the `.stderr` next to it); every program in
//! `ui/pass` compiles. Regenerate the snapshots with `TRYBUILD=overwrite`
//! and read the diff as a user would.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
