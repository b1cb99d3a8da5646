// Package fidelity holds only tests: the guard against the lab's stand-ins
// and hotsnap's parsers agreeing with each other while both are wrong.
//
// Both sides are written in this repository, so a test that feeds the
// stand-ins' output to the parsers proves only that they agree. The tests
// here parse every real-output sample of reference/real-outputs/cassandra
// (nodetool, systemctl, TheHive's /api/status; kept in
// lab/cassandra/testdata/real-outputs) and the live output of the matching
// stand-in (an in-process Cassandra ring on 127.0.0.1-3, the systemctl shim
// running a unit) with the same parser, the one hotsnap uses (package
// steps/parse), and compare their shapes: which fields the parser filled, the
// error type and the exit status. A difference is either a stand-in bug or
// listed, with its reason, as a documented one.
//
// Samples no hotsnap parser reads are listed with the reason and, where
// there is one, the stand-in test that compares their text. The column
// lists of the system tables are compared with what the CQL server answers
// to SELECT * through the real driver (TestSystemTablesColumns).
//
// The other sample directories are covered where their parser lives:
// elasticsearch/ by lab/elastic's TestFidelityAgainstRealSamples (the JSON
// shape and HTTP status of every sample against the live stand-in, every
// sample compared or listed as skipped), and thehive-conf/ by lab's
// TestTheHiveConfShape (config.ReadTheHiveConf on the documented
// configurations and on the application.conf the lab writes).
package fidelity
