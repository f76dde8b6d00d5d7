package main

import (
	"context"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// cluster join -------------------------------------------------------------------------------

// cluster join and cluster remove exit codes.
const (
	exitJoinRefused   = 1 // the cluster refused the request
	exitRemoveRefused = 1 // no server with that id, or the request was refused
)

// clusterJoinOptions are the options of cluster join.
type clusterJoinOptions struct {
	nodeID, raftAddr string
}

// clusterJoinCommand is the dispatch entry of cluster join.
func clusterJoinCommand() command {
	return command{name: "join", summary: "Add a node to the cluster: a voter, or with autopilot a non-voter promoted once stable (a no-op when it is already a member).",
		exits: "  0 joined\n  1 refused\n",
		new:   func() options { return &clusterJoinOptions{} }}
}

// addFlags defines the options of cluster join.
func (o *clusterJoinOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.nodeID, "node-id", "", "the `ID` of the node to add")
	f.fs.StringVar(&o.raftAddr, "raft-addr", "", "the raft `ADDRESS` (host:port) of the node")
	f.require("node-id", "raft-addr")
}

// joinResult is the JSON result of cluster join and cluster remove.
type joinResult struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr,omitempty"`
}

// run executes cluster join.
func (o *clusterJoinOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	err := e.client.Join(ctx, o.nodeID, o.raftAddr)
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
		r.say("Node %s (%s) is a member of the cluster.", o.nodeID, o.raftAddr)
		r.result = joinResult{NodeID: o.nodeID, RaftAddr: o.raftAddr}
		return r.done(exitOK)
	case api.CodeInvalid:
		r.say("Cannot add node %s: %s", o.nodeID, apiMessage(err))
		return r.done(exitJoinRefused)
	}
	return r.fail(err)
}

// cluster remove -----------------------------------------------------------------------------

// clusterRemoveOptions are the options of cluster remove.
type clusterRemoveOptions struct {
	nodeID string
}

// clusterRemoveCommand is the dispatch entry of cluster remove.
func clusterRemoveCommand() command {
	return command{name: "remove", summary: "Take a node out of the cluster.",
		exits: "  0 removed\n  1 no such node in the cluster, or refused\n",
		new:   func() options { return &clusterRemoveOptions{} }}
}

// addFlags defines the options of cluster remove.
func (o *clusterRemoveOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.nodeID, "node-id", "", "the `ID` of the node to remove (or give it as the argument)")
	f.positional("[<node-id>]", 0, 1)
}

// validate takes the id from the argument when --node-id is not given.
func (o *clusterRemoveOptions) validate(args []string) error {
	switch {
	case len(args) == 1 && o.nodeID != "" && args[0] != o.nodeID:
		return usagef("--node-id %s and argument %s differ", o.nodeID, args[0])
	case len(args) == 1:
		o.nodeID = args[0]
	case o.nodeID == "":
		return usagef("the following arguments are required: --node-id (or <node-id>)")
	}
	return nil
}

// run executes cluster remove.
func (o *clusterRemoveOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	err := e.client.RemoveServer(ctx, o.nodeID)
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
		r.say("Node %s was removed from the cluster.", o.nodeID)
		r.result = joinResult{NodeID: o.nodeID}
		return r.done(exitOK)
	case api.CodeUnknownServer:
		r.say("Node %s is not a member of the cluster.", o.nodeID)
		return r.done(exitRemoveRefused)
	case api.CodeInvalid:
		r.say("Cannot remove node %s: %s", o.nodeID, apiMessage(err))
		return r.done(exitRemoveRefused)
	}
	return r.fail(err)
}
