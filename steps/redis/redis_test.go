package redis

import (
	"context"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/remote/remotetest"
	"github.com/hotsnap/hotsnap/steps"
)

func TestCountTypeBeforeLen(t *testing.T) {
	s := Server{Node: "eiq1", Port: 6379, DB: 3, Password: "s3cr3t pw"}
	f := remotetest.New(t)
	f.Expect("eiq1", s.CLI("--scan")).Stdout("utilities\nutilities\x06\x163\nqueue:search:inbound\n_kombu.binding.utilities\nunacked\nunacked_index\nutilities\n")
	f.Expect("eiq1", s.CLI("--no-raw")).Stdout("set\nlist\nhash\nzset\nlist\nlist\n")
	f.Expect("eiq1", s.CLI("--no-raw")).Stdout("(integer) 2\n(integer) 3\n(integer) 1\n4\n")
	c, err := s.Count(context.Background(), steps.Detached(f, "drain"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 10 || strings.Join(c.NonEmpty(), " ") != `queue:search:inbound=2 unacked=3 utilities=1 utilities\x06\x163=4` {
		t.Fatalf("counts %+v %v", c, c.NonEmpty())
	}
	calls := f.Calls()
	if calls[1].Stdin != "s3cr3t pw\nTYPE \"_kombu.binding.utilities\"\nTYPE \"queue:search:inbound\"\nTYPE \"unacked\"\nTYPE \"unacked_index\"\nTYPE \"utilities\"\nTYPE \"utilities\\x06\\x163\"\n" {
		t.Fatalf("TYPE stdin %q", calls[1].Stdin)
	}
	if !strings.HasPrefix(calls[2].Stdin, "s3cr3t pw\nLLEN \"queue:search:inbound\"\nHLEN \"unacked\"\n") {
		t.Fatalf("LEN stdin %q", calls[2].Stdin)
	}
	for _, c := range calls {
		if strings.Contains(c.Cmd, "s3cr3t") {
			t.Fatalf("the password is on the command line: %s", c.Cmd)
		}
	}
}

func TestCountFailsOnAnErrorReply(t *testing.T) {
	s := Server{Node: "eiq1", Port: 6379, DB: 3}
	f := remotetest.New(t)
	f.Expect("eiq1", s.CLI("--scan")).Stdout("NOAUTH Authentication required.\n")
	if _, err := s.Count(context.Background(), steps.Detached(f, "drain")); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("err = %v", err)
	}
}
