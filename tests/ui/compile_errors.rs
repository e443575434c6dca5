//! Compile-time diagnostics: every misuse in `fail/` is one clear error at
//! the token that is wrong (see the `.stderr` next to it). Regenerate the
//! snapshots with `TRYBUILD=overwrite` and read the diff as a user would.
//! The programs in `pass/` are this package's other tests: cargo builds and
//! runs them.

#[test]
fn misuses_are_one_error_at_the_wrong_token() {
    trybuild::TestCases::new().compile_fail("fail/*.rs");
}
