// Local items named like the prelude and like exhook's own types must not
// disturb the generated code.
#![allow(dead_code)]

struct Result;
struct Option;
struct Some;
struct Ok;
struct Err;
struct Box;
struct Send;
struct Future;
struct Call;
struct Handler;
mod core {}
mod std {}
mod exhook {}

/// A user type called `State`, unrelated to exhook's.
#[derive(Clone)]
struct State(u32);

mod handlers {
    pub mod auth {
        use exhook_runtime::{ClientInfo, Decision};

        #[exhook_runtime::on_client_authenticate]
        pub async fn check(
            client: &ClientInfo,
            state: exhook_runtime::State<super::super::State>,
        ) -> Decision {
            if client.username.len() as u32 > state.0.0 {
                Decision::Deny
            } else {
                Decision::Ignore
            }
        }
    }

    #[exhook_runtime::on_message_publish(topic = "a/#")]
    pub(crate) async fn publish(msg: &exhook_runtime::Message) -> exhook_runtime::Publish {
        let _ = msg;
        exhook_runtime::Publish::Ignore
    }
}

/// A handler named like a crate of the extern prelude (a dependency here;
/// in a crate's tests, binaries and doctests, the crate itself), listed by
/// its bare name.
#[exhook_runtime::on_client_connected]
async fn tokio() {}

use exhook_runtime::on_session_created;

/// Named like what `provider!` generates.
#[on_session_created]
async fn entry() {}

/// Named like the generated `Handler::call`'s argument.
#[exhook_runtime::on_session_terminated]
async fn call() {}

fn main() {
    // The same in a block, as a doctest's handlers are: named like the
    // runtime itself, which the code below then names with a leading `::`.
    #[on_session_created]
    async fn exhook_runtime() {}

    // A local variable named like a handler is not what the list names.
    let tokio = "a local variable";

    let provider = ::exhook_runtime::provider![
        handlers::auth::check,
        handlers::publish,
        tokio,
        exhook_runtime,
        entry,
        call
    ];
    let _server = ::exhook_runtime::Server::new(provider).state(State(8));
    let _ = tokio;
}
