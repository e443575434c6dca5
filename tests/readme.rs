//! The README's quickstart is `examples/quickstart.rs`, its testing
//! example `examples/auth_sqlite/tests/hooks.rs`, and its extension example
//! `examples/tenants/src/lib.rs`, character for character,
//! so the code a reader copies is code CI builds. (Every Rust
//! block of the README is also compiled, as a doctest of `exhook-runtime`.)

#[test]
fn readme_quickstart_is_the_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/quickstart.rs")).unwrap();
    let block = format!("```rust,no_run\n{example}```");
    assert!(
        readme.contains(&block),
        "README.md's first rust block differs from examples/quickstart.rs"
    );
    assert!(
        example.lines().count() <= 20,
        "the quickstart is at most 20 lines"
    );
    let first_block = readme.split("```rust,no_run\n").nth(1).unwrap();
    assert_eq!(
        first_block.split("```").next().unwrap(),
        example,
        "the quickstart is the first rust block"
    );
}

#[test]
fn readme_testing_section_is_an_apps_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let test = std::fs::read_to_string(root.join("examples/auth_sqlite/tests/hooks.rs")).unwrap();
    assert!(
        readme.contains(&format!("```rust,ignore\n{test}```")),
        "the README's \"Testing your hooks\" block differs from examples/auth_sqlite/tests/hooks.rs"
    );
}

#[test]
fn readme_extension_section_is_the_tenants_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/tenants/src/lib.rs")).unwrap();
    assert!(
        readme.contains(&format!("```rust,ignore\n{example}```")),
        "the README's \"Your own arguments and middleware\" block differs from examples/tenants/src/lib.rs"
    );
}
