package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/lab/s3"
)

func newLabCmd(g *globals) *cobra.Command {
	var o lab.Options
	c := &cobra.Command{
		Use:   "lab",
		Short: "A local practice cluster in network namespaces (needs root)",
		Long: `The lab is a practice cluster on this machine: one network namespace per node,
each with a real OpenSSH server, its own hostname and its own /var/lib/cassandra
and /opt/thp/thehive/files, a shared /mnt/backup (the NFS stand-in), and an "op"
namespace where hotsnap runs. It uses 10.77.S.0/24 inside its namespaces only,
behind an "unreachable 10.77.0.0/16" route in the root namespace, so nothing
it does can reach a real network.

  sudo hotsnap lab up                                  # 3 nodes, writes an inventory
  sudo hotsnap lab exec -- hotsnap exec -- hostname    # run hotsnap inside the lab
  sudo hotsnap lab status
  sudo hotsnap lab down                                # removes everything it made`,
		Example: `  sudo hotsnap lab up && sudo hotsnap lab exec -- hotsnap preflight && sudo hotsnap lab down
  sudo hotsnap lab up --name mylab --subnet 42         # a second lab beside the first`,
	}
	// The lab commands neither read an inventory nor dial a node: their
	// help leaves out the root's --inventory and --accept-new-hosts.
	defaultHelp := c.HelpFunc()
	c.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		for _, name := range []string{"inventory", "accept-new-hosts"} {
			if f := cmd.Root().PersistentFlags().Lookup(name); f != nil {
				f.Hidden = true
			}
		}
		defaultHelp(cmd, args)
	})
	pf := c.PersistentFlags()
	pf.StringVar(&o.Name, "name", "", "lab name, prefix of its namespaces (default \""+lab.DefaultName+"\")")
	pf.IntVar(&o.Subnet, "subnet", 0, "third octet of the lab network 10.77.S.0/24 (0-255)")
	pf.StringVar(&o.StateDir, "state-dir", "", "where keys, inventory and node data live (default "+lab.DefaultStateRoot+"/NAME)")

	var dataSize, link string
	up := &cobra.Command{
		Use:   "up",
		Short: "Create the practice cluster and write its inventory, key and known_hosts",
		Long: `Create the practice cluster (needs root): a bridge namespace, an "op" namespace
for hotsnap and node1..nodeN, each with a real sshd, its own hostname, its own
/var/lib/cassandra and /opt/thp/thehive/files, the stand-ins and seeded data.
It writes an inventory, a client key and a known_hosts file into the state
directory. A lab already up with the same shape is left as it is; one left
half-made by an interrupted "lab up" is taken down first. Labs with different
--name and --subnet run side by side.`,
		Example: `  sudo hotsnap lab up
  sudo hotsnap lab up --nodes 5 --data 1GB
  sudo hotsnap lab up --name mylab --subnet 42 --storage s3
  sudo hotsnap lab up --platform alien4cloud --nodes 1 --a4c-embedded`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lab.RequireRoot(); err != nil {
				return usageErr(err)
			}
			o.Log = cmd.ErrOrStderr()
			size, err := lab.ParseSize(dataSize)
			if err != nil {
				return usageErr(fmt.Errorf("--data: %w", err))
			}
			o.Data = size
			if o.Link, err = lab.ParseLink(link); err != nil {
				return usageErr(fmt.Errorf("--link: %w", err))
			}
			if cmd.Flags().Changed("s3") && !cmd.Flags().Changed("storage") {
				o.Storage = lab.StorageS3 // --s3 KIND alone asks for S3 attachments
			}
			if o.Binary, err = os.Executable(); err != nil {
				return fmt.Errorf("lab up: locate the hotsnap binary: %w", err)
			}
			start := time.Now()
			l, err := lab.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "lab %q is up with %d nodes in %s\n", l.Name, len(l.Nodes), time.Since(start).Round(10*time.Millisecond))
			for _, n := range l.Nodes {
				fmt.Fprintf(out, "  %-7s %s\n", n.Name, n.IP)
			}
			sel := labSelector(o)
			fmt.Fprintf(out, "inventory: %s\nrun hotsnap inside it:  sudo hotsnap lab%s exec -- hotsnap exec -- hostname\nremove it:             sudo hotsnap lab%s down\n", l.InventoryPath(), sel, sel)
			return nil
		},
	}
	up.Flags().IntVar(&o.Nodes, "nodes", 0, fmt.Sprintf("number of nodes (1-%d, default %d)", lab.MaxNodes, lab.DefaultNodes))
	up.Flags().StringVar(&dataSize, "data", "200MB", "Cassandra data per node (e.g. 200MB, 2GB, 512KiB); ES gets about 1/4, attachments 1/10")
	up.Flags().StringVar(&link, "link", "", "shape every link (nodes, op, backup host) with tc: RATE[,DELAY], e.g. 1gbit or 1gbit,0.2ms (a delay needs the kernel's netem); default unshaped")
	up.Flags().BoolVar(&o.Auth, "auth", false, "turn on Cassandra and Elasticsearch authentication (generated passwords in STATE/secrets)")
	up.Flags().StringVar(&o.Search, "search", lab.SearchElasticsearch, "search engine to stand in for: elasticsearch (8.x; 6.8 on an alien4cloud lab), es6 (Elasticsearch 6.8.22) or opensearch")
	up.Flags().BoolVar(&o.A4CEmbedded, "a4c-embedded", false, "alien4cloud: Elasticsearch inside Alien4Cloud's JVM on one node (client/transportClient false), as the distribution's default configuration has it")
	up.Flags().StringVar(&o.Platform, "platform", lab.PlatformTheHive, "platform to imitate: thehive (Cassandra, ES, attachments), eclecticiq (PostgreSQL, Redis, ES, config files) or alien4cloud (ES, uploaded files)")
	up.Flags().StringVar(&o.Storage, "storage", lab.StorageLocalFS, "where TheHive's attachments live: localfs (node1's /opt/thp/thehive/files) or s3 (a real S3 server on node1, bucket thehive)")
	up.Flags().StringVar(&o.S3, "s3", s3.KindVersityGW, "S3 server built from the Go module proxy for --storage s3 (given alone, it implies --storage s3): versitygw or minio")

	down := &cobra.Command{
		Use:   "down",
		Short: "Remove every process, namespace, mount and route the lab made",
		Long: `Remove every process, namespace, interface, mount and route the lab made — also
after a "lab up" that died halfway. Keys, known_hosts and node data stay in the
state directory for the next "lab up" unless --purge is given.`,
		Example: `  sudo hotsnap lab down
  sudo hotsnap lab down --name mylab --purge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lab.RequireRoot(); err != nil {
				return usageErr(err)
			}
			o.Log = cmd.ErrOrStderr()
			if err := lab.Down(cmd.Context(), o); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "lab is down")
			return nil
		},
	}
	down.Flags().BoolVar(&o.Purge, "purge", false, "also delete the state directory (keys, node data, backups)")

	status := &cobra.Command{
		Use:   "status",
		Short: "Show each lab node: namespace, sshd, port 22, network, Cassandra, ES, data size",
		Long: `Show the lab and each node: its namespace, sshd, port 22 reachable from op, the
network, the Cassandra and Elasticsearch stand-ins, the data size. Exit 1 when
anything is not healthy (a stopped node, a lab half made or half removed).`,
		Example: `  sudo hotsnap lab status
  sudo hotsnap lab status --name mylab`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lab.RequireRoot(); err != nil {
				return usageErr(err)
			}
			r, err := lab.Status(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), r.String())
			if !r.Healthy() {
				return errors.New("the lab is not healthy: start a stopped node with `sudo hotsnap lab node start NODE`, or rebuild it with `sudo hotsnap lab down && sudo hotsnap lab up`")
			}
			return nil
		},
	}

	execCmd := &cobra.Command{
		Use:   "exec -- COMMAND [ARG...]",
		Short: "Run a command inside the lab's op namespace, with HOTSNAP_INVENTORY set",
		Long: `Run a command inside the lab's "op" network namespace, the only place from which
the lab nodes can be reached, with HOTSNAP_INVENTORY pointing at the lab's
inventory. "hotsnap" as the command runs this same binary.`,
		Example: "  sudo hotsnap lab exec -- hotsnap exec -- hostname",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lab.RequireRoot(); err != nil {
				return usageErr(err)
			}
			l, err := lab.Open(o)
			if err != nil {
				return fmt.Errorf("%w (is the lab up? sudo hotsnap lab up)", err)
			}
			name := args[0]
			if name == "hotsnap" {
				if self, err := os.Executable(); err == nil {
					name = self
				}
			}
			x := l.OpCommand(cmd.Context(), name, args[1:]...)
			x.Stdin, x.Stdout, x.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			if err := x.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return &exitError{code: ee.ExitCode(), err: err, silent: true}
				}
				return err
			}
			return nil
		},
	}
	c.AddCommand(up, down, status, execCmd, newLabNodeCmd(&o), newLabBenchCmd(&o))
	return c
}

// newLabNodeCmd is `hotsnap lab node stop|start NODE [--network]`.
func newLabNodeCmd(o *lab.Options) *cobra.Command {
	c := &cobra.Command{
		Use:   "node",
		Short: "Stop or start one lab node's Cassandra (and with --network, the whole node)",
		Example: `  sudo hotsnap lab node stop node3
  sudo hotsnap lab node start node3`,
	}
	var network bool
	stop := &cobra.Command{
		Use:   "stop NODE",
		Short: "Stop a node's Cassandra stand-in; with --network also cut the node off the lab network",
		Long: `Stop a node's Cassandra stand-in: its peers then show it DN and nodetool on it
fails with the JMX "Connection refused" error. With --network the node also
leaves the lab network (nothing reaches it, not even SSH) and its Elasticsearch
stand-in stops. "lab node start" reverses either.`,
		Example: "  sudo hotsnap lab node stop node3 --network",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := openLab(*o)
			if err != nil {
				return err
			}
			if err := l.StopNode(cmd.Context(), args[0], network); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s stopped\n", args[0])
			return nil
		},
	}
	stop.Flags().BoolVar(&network, "network", false, "also take the node off the lab network")
	start := &cobra.Command{
		Use:     "start NODE",
		Short:   "Bring a stopped node back: network, Cassandra and Elasticsearch stand-ins, and sshd if it died",
		Example: "  sudo hotsnap lab node start node3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := openLab(*o)
			if err != nil {
				return err
			}
			if err := l.StartNode(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s started\n", args[0])
			return nil
		},
	}
	c.AddCommand(stop, start)
	return c
}

// openLab opens the running lab for a `lab` subcommand.
func openLab(o lab.Options) (*lab.Lab, error) {
	if err := lab.RequireRoot(); err != nil {
		return nil, usageErr(err)
	}
	l, err := lab.Open(o)
	if err != nil {
		return nil, fmt.Errorf("%w (is the lab up? sudo hotsnap lab up)", err)
	}
	return l, nil
}

// labSelector is the --name flag that selects the lab o names, for the
// commands printed to the operator ("" for the default lab). Its state
// directory is found through the lab registry.
func labSelector(o lab.Options) string {
	if o.Name == "" || o.Name == lab.DefaultName {
		return ""
	}
	return " --name " + o.Name
}
