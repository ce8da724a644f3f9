// Package compat drives OpenStage's config center with the official go-chassis
// kie-client (github.com/go-chassis/kie-client): create, list, long-poll wake-up
// on change, delete. Run it through compat/run-go.sh, which starts a server and
// sets OPENSTAGE_SC_ADDR.
package compat
