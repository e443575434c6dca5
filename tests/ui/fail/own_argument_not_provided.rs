use exhook_runtime::prelude::*;
use exhook_runtime::hooks::Provides;
use exhook_runtime::{Call, FromCall, Rejection};

/// The tenant of a `tenant:user` user name.
struct Tenant(String);

impl<'a, H: Provides<ClientInfo>> FromCall<'a, H> for Tenant {
    type Rejection = Rejection;

    async fn from_call(call: Call<'a, H>) -> Result<Self, Rejection> {
        let client: &ClientInfo = call.piece();
        match client.username.split_once(':') {
            Some((tenant, _)) => Ok(Tenant(tenant.to_owned())),
            None => Err(Rejection::Deny),
        }
    }
}

#[on_client_connect]
async fn connect(tenant: Tenant) {
    let _ = tenant.0;
}

fn main() {}
