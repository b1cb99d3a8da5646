// Package remote is hotsnap's SSH layer: connections with strict host-key
// checking, ssh-agent and key-file authentication, ~/.ssh/config (aliases,
// HostName, User, Port, IdentityFile, ProxyJump), sudo without leaking the
// password, parallel execution on many nodes, streaming transfers with byte
// counters, cancellation that stops the remote process, and a dialer through
// the SSH connection for the CQL, Elasticsearch and S3 clients.
//
// Every value that reaches a remote shell goes through Quote.
package remote
