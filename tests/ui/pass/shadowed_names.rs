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

fn main() {
    let provider = exhook_runtime::provider![handlers::auth::check, handlers::publish];
    let _server = exhook_runtime::Server::new(provider).state(State(8));
}
