// A provider with many handlers compiles without raising any limit.
use exhook_runtime::*;

#[on_client_connect]
async fn h0() {}
#[on_client_connected]
async fn h1() {}
#[on_client_authenticate]
async fn h2(client: &ClientInfo) -> Decision {
    if client.username == "u2" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h3(client: &ClientInfo) -> Decision {
    if client.username == "u3" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h4() {}
#[on_message_publish(topic = "t/5/#")]
async fn h5(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h6() {}
#[on_message_acked]
async fn h7() {}
#[on_session_terminated]
async fn h8() {}
#[on_client_disconnected]
async fn h9() {}
#[on_client_connect]
async fn h10() {}
#[on_client_connected]
async fn h11() {}
#[on_client_authenticate]
async fn h12(client: &ClientInfo) -> Decision {
    if client.username == "u12" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h13(client: &ClientInfo) -> Decision {
    if client.username == "u13" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h14() {}
#[on_message_publish(topic = "t/15/#")]
async fn h15(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h16() {}
#[on_message_acked]
async fn h17() {}
#[on_session_terminated]
async fn h18() {}
#[on_client_disconnected]
async fn h19() {}
#[on_client_connect]
async fn h20() {}
#[on_client_connected]
async fn h21() {}
#[on_client_authenticate]
async fn h22(client: &ClientInfo) -> Decision {
    if client.username == "u22" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h23(client: &ClientInfo) -> Decision {
    if client.username == "u23" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h24() {}
#[on_message_publish(topic = "t/25/#")]
async fn h25(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h26() {}
#[on_message_acked]
async fn h27() {}
#[on_session_terminated]
async fn h28() {}
#[on_client_disconnected]
async fn h29() {}
#[on_client_connect]
async fn h30() {}
#[on_client_connected]
async fn h31() {}
#[on_client_authenticate]
async fn h32(client: &ClientInfo) -> Decision {
    if client.username == "u32" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h33(client: &ClientInfo) -> Decision {
    if client.username == "u33" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h34() {}
#[on_message_publish(topic = "t/35/#")]
async fn h35(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h36() {}
#[on_message_acked]
async fn h37() {}
#[on_session_terminated]
async fn h38() {}
#[on_client_disconnected]
async fn h39() {}
#[on_client_connect]
async fn h40() {}
#[on_client_connected]
async fn h41() {}
#[on_client_authenticate]
async fn h42(client: &ClientInfo) -> Decision {
    if client.username == "u42" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h43(client: &ClientInfo) -> Decision {
    if client.username == "u43" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h44() {}
#[on_message_publish(topic = "t/45/#")]
async fn h45(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h46() {}
#[on_message_acked]
async fn h47() {}
#[on_session_terminated]
async fn h48() {}
#[on_client_disconnected]
async fn h49() {}
#[on_client_connect]
async fn h50() {}
#[on_client_connected]
async fn h51() {}
#[on_client_authenticate]
async fn h52(client: &ClientInfo) -> Decision {
    if client.username == "u52" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_client_authorize]
async fn h53(client: &ClientInfo) -> Decision {
    if client.username == "u53" {
        Decision::Allow
    } else {
        Decision::Ignore
    }
}
#[on_session_created]
async fn h54() {}
#[on_message_publish(topic = "t/55/#")]
async fn h55(msg: Message) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered]
async fn h56() {}
#[on_message_acked]
async fn h57() {}
#[on_session_terminated]
async fn h58() {}
#[on_client_disconnected]
async fn h59() {}

fn main() {
    let provider = provider![
        h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19,
        h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, h30, h31, h32, h33, h34, h35, h36, h37,
        h38, h39, h40, h41, h42, h43, h44, h45, h46, h47, h48, h49, h50, h51, h52, h53, h54, h55,
        h56, h57, h58, h59,
    ];
    assert_eq!(provider.handlers().count(), 60);
    let _server = Server::new(provider);
}
