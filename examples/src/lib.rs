//! What the runnable examples share with the tests: the handlers of EMQX's
//! demo provider, which `examples/emqx_demo.rs` serves and the test kit's
//! conformance tests run against.

pub mod emqx_demo;
