// Package compat holds compatibility tests that drive an OpenStage server with
// the real go-chassis service-center client (github.com/go-chassis/sc-client).
//
// The tests live in sc_client_test.go. They need a running server whose
// address (host:port) is given in the OPENSTAGE_SC_ADDR environment variable;
// compat/run-go.sh starts one and runs them.
package compat
