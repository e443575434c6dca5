// The Go peer of the benchmarks: a grpc-go provider doing the same work as
// the hand-written tonic provider in bench/src/baseline.rs, in the shape of
// EMQX's own Go example. message.publish on sensors/# is answered CONTINUE
// with the received message, anything else IGNORE; authenticate allows the
// user "bench"; every other hook answers EmptySuccess.
//
// Listens on EXHOOK_LISTEN (default 127.0.0.1:9000). Built by build.sh,
// which generates the exhook package from proto/emqx/exhook/v3/exhook.proto.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"

	pb "exhookpeer/emqx/exhook/v3"
)

type provider struct {
	pb.UnimplementedHookProviderServer
}

var (
	empty  = &pb.EmptySuccess{}
	ignore = &pb.ValuedResponse{Type: pb.ValuedResponse_IGNORE}
	allow  = &pb.ValuedResponse{
		Type:  pb.ValuedResponse_STOP_AND_RETURN,
		Value: &pb.ValuedResponse_BoolResult{BoolResult: true},
	}
)

// sensors/#: the level "sensors" and everything below it.
func isSensorTopic(topic string) bool {
	return topic == "sensors" || strings.HasPrefix(topic, "sensors/")
}

func (provider) OnProviderLoaded(context.Context, *pb.ProviderLoadedRequest) (*pb.LoadedResponse, error) {
	return &pb.LoadedResponse{Hooks: []*pb.HookSpec{
		{Name: "client.authenticate"},
		{Name: "message.publish", Topics: []string{"sensors/#"}},
	}}, nil
}

func (provider) OnClientAuthenticate(_ context.Context, r *pb.ClientAuthenticateRequest) (*pb.ValuedResponse, error) {
	if r.GetClientinfo().GetUsername() == "bench" {
		return allow, nil
	}
	return ignore, nil
}

func (provider) OnClientAuthorize(context.Context, *pb.ClientAuthorizeRequest) (*pb.ValuedResponse, error) {
	return ignore, nil
}

func (provider) OnMessagePublish(_ context.Context, r *pb.MessagePublishRequest) (*pb.ValuedResponse, error) {
	if m := r.GetMessage(); m != nil && isSensorTopic(m.Topic) {
		return &pb.ValuedResponse{
			Type:  pb.ValuedResponse_CONTINUE,
			Value: &pb.ValuedResponse_Message{Message: m},
		}, nil
	}
	return ignore, nil
}

func (provider) OnProviderUnloaded(context.Context, *pb.ProviderUnloadedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientConnect(context.Context, *pb.ClientConnectRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientConnack(context.Context, *pb.ClientConnackRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientConnected(context.Context, *pb.ClientConnectedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientDisconnected(context.Context, *pb.ClientDisconnectedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientSubscribe(context.Context, *pb.ClientSubscribeRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnClientUnsubscribe(context.Context, *pb.ClientUnsubscribeRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionCreated(context.Context, *pb.SessionCreatedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionSubscribed(context.Context, *pb.SessionSubscribedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionUnsubscribed(context.Context, *pb.SessionUnsubscribedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionResumed(context.Context, *pb.SessionResumedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionDiscarded(context.Context, *pb.SessionDiscardedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionTakenover(context.Context, *pb.SessionTakenoverRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnSessionTerminated(context.Context, *pb.SessionTerminatedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnMessageDelivered(context.Context, *pb.MessageDeliveredRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnMessageDropped(context.Context, *pb.MessageDroppedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}
func (provider) OnMessageAcked(context.Context, *pb.MessageAckedRequest) (*pb.EmptySuccess, error) {
	return empty, nil
}

func main() {
	address := os.Getenv("EXHOOK_LISTEN")
	if address == "" {
		address = "127.0.0.1:9000"
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go peer: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer()
	pb.RegisterHookProviderServer(server, provider{})
	fmt.Fprintf(os.Stderr, "go peer serving on %s\n", listener.Addr())
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "go peer: %v\n", err)
		os.Exit(1)
	}
}
