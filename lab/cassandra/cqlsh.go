package cassandra

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// cqlshErrorNames maps protocol error codes to the Python driver's exception
// names and descriptions used in cqlsh messages.
var cqlshErrorNames = map[int][2]string{
	0x0000: {"ServerError", "Server error"},
	0x0100: {"AuthenticationFailed", "Bad credentials"},
	0x1000: {"Unavailable", "Unavailable exception"},
	0x2000: {"SyntaxException", "Syntax error in CQL query"},
	0x2100: {"Unauthorized", "Unauthorized"},
	0x2200: {"InvalidRequest", "Invalid query"},
	0x2300: {"ConfigurationException", "Query invalid because of configuration issue"},
	0x2400: {"AlreadyExists", "Already exists"},
}

// CqlshMain is the stand-in `cqlsh HOST [PORT] [-u U -p P] [-k ks] -e STMT | -f FILE`.
// It talks CQL to the node with the gocql driver and prints like cqlsh 4.x.
func CqlshMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cqlsh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var user, pass, ks, exec, file string
	var reqTimeout, connTimeout float64
	fs.StringVar(&user, "u", "", "username")
	fs.StringVar(&user, "username", "", "username")
	fs.StringVar(&pass, "p", "", "password")
	fs.StringVar(&pass, "password", "", "password")
	fs.StringVar(&ks, "k", "", "keyspace")
	fs.StringVar(&ks, "keyspace", "", "keyspace")
	fs.StringVar(&exec, "e", "", "execute")
	fs.StringVar(&exec, "execute", "", "execute")
	fs.StringVar(&file, "f", "", "file")
	fs.StringVar(&file, "file", "", "file")
	fs.Float64Var(&reqTimeout, "request-timeout", 10, "request timeout (s)")
	fs.Float64Var(&connTimeout, "connect-timeout", 5, "connect timeout (s)")
	fs.Bool("no-color", false, "")
	fs.Bool("C", false, "")
	// Go's flag package stops at the first positional; cqlsh allows HOST first.
	var pos, flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && name != "no-color" && name != "C" && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	if err := fs.Parse(flags); err != nil {
		return 2
	}
	host, port := "127.0.0.1", "9042"
	if h := os.Getenv("CQLSH_HOST"); h != "" {
		host = h
	}
	if p := os.Getenv("CQLSH_PORT"); p != "" {
		port = p
	}
	if len(pos) > 0 {
		host = pos[0]
	}
	if len(pos) > 1 {
		port = pos[1]
	}
	if len(pos) > 2 {
		fmt.Fprintf(stderr, "Usage: cqlsh.py [options] [host [port]]\n\ncqlsh.py: error: Unexpected arguments: %s\n", strings.Join(pos[2:], " "))
		return 2
	}
	pn, err := strconv.Atoi(port)
	if err != nil {
		fmt.Fprintf(stderr, "Usage: cqlsh.py [options] [host [port]]\n\ncqlsh.py: error: '%s' is not a valid port number.\n", port)
		return 2
	}
	var script, src string
	switch {
	case exec != "":
		script, src = exec, "<stdin>"
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "Could not open '%s': [Errno 2] No such file or directory: '%s'\n", file, file)
			return 1
		}
		script, src = string(b), file
	default:
		fmt.Fprintln(stderr, "stand-in cqlsh: interactive mode is not supported; use -e or -f")
		return 2
	}
	sh := &cqlshSession{host: host, port: pn, user: user, pass: pass, timeout: time.Duration(reqTimeout * float64(time.Second)), connTimeout: time.Duration(connTimeout * float64(time.Second)), stdout: stdout, stderr: stderr}
	if err := sh.connect(ks); err != nil {
		fmt.Fprintf(stderr, "Connection error: ('Unable to connect to any servers', {'%s:%d': %s})\n", host, pn, err.Error())
		return 1
	}
	defer sh.close()
	stmts, lines := splitStatements(script)
	failed := false
	for i, st := range stmts {
		if err := sh.run(st); err != nil {
			fmt.Fprintf(stderr, "%s:%d:%s\n", src, lines[i], err.Error())
			failed = true
		}
	}
	if failed {
		return 2
	}
	return 0
}

type cqlshSession struct {
	host           string
	port           int
	user, pass     string
	timeout        time.Duration
	connTimeout    time.Duration
	stdout, stderr io.Writer
	sess           *gocql.Session
	keyspace       string
}

func (c *cqlshSession) connect(ks string) error {
	cc := gocql.NewCluster(c.host)
	cc.Port = c.port
	cc.Timeout = c.timeout
	cc.ConnectTimeout = c.connTimeout
	cc.DisableInitialHostLookup = true
	cc.Keyspace = ks
	if c.user != "" {
		cc.Authenticator = gocql.PasswordAuthenticator{Username: c.user, Password: c.pass}
	}
	s, err := cc.CreateSession()
	if err != nil {
		msg := err.Error()
		addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
		switch {
		case strings.Contains(msg, "incorrect") || strings.Contains(msg, "authenticat") || strings.Contains(msg, "Authenticat"):
			if c.user == "" {
				return fmt.Errorf("AuthenticationFailed('Remote end requires authentication')")
			}
			return fmt.Errorf("AuthenticationFailed('Failed to authenticate to %s: Error from server: code=0100 [Bad credentials] message=\"Provided username %s and/or password are incorrect\"')", addr, c.user)
		case strings.Contains(msg, "Keyspace") || strings.Contains(msg, "keyspace"):
			return fmt.Errorf("InvalidRequest('Error from server: code=2200 [Invalid query] message=\"Keyspace \\'%s\\' does not exist\"')", ks)
		default:
			return fmt.Errorf("ConnectionRefusedError(111, \"Tried connecting to [('%s', %d)]. Last error: Connection refused\")", c.host, c.port)
		}
	}
	c.sess = s
	c.keyspace = ks
	return nil
}

func (c *cqlshSession) close() {
	if c.sess != nil {
		c.sess.Close()
	}
}

// serverError renders a driver error the way cqlsh prints it.
func serverError(err error) error {
	var re gocql.RequestError
	if errors.As(err, &re) {
		names, ok := cqlshErrorNames[re.Code()]
		if !ok {
			names = [2]string{"ServerError", "Server error"}
		}
		if re.Code() == 0x2400 {
			var ae *gocql.RequestErrAlreadyExists
			if errors.As(err, &ae) {
				if ae.Table != "" {
					return fmt.Errorf("AlreadyExists: Table '%s.%s' already exists", ae.Keyspace, ae.Table)
				}
				return fmt.Errorf("AlreadyExists: Keyspace '%s' already exists", ae.Keyspace)
			}
		}
		return fmt.Errorf("%s: Error from server: code=%04x [%s] message=\"%s\"", names[0], re.Code(), names[1], re.Message())
	}
	return fmt.Errorf("OperationTimedOut: errors={}, last_host=None: %v", err)
}

func (c *cqlshSession) run(stmt string) error {
	toks, _ := lexCQL(stmt)
	if len(toks) > 0 && toks[0].kind == tkIdent && toks[0].text == "use" && len(toks) > 1 {
		ks := toks[1].text
		old := c.sess
		if err := c.connect(ks); err != nil {
			c.sess = old
			return fmt.Errorf("InvalidRequest: Error from server: code=2200 [Invalid query] message=\"Keyspace '%s' does not exist\"", ks)
		}
		old.Close()
		return nil
	}
	q := c.sess.Query(stmt)
	iter := q.Iter()
	cols := iter.Columns()
	var rows []map[string]any
	for {
		m := map[string]any{}
		if !iter.MapScan(m) {
			break
		}
		rows = append(rows, m)
	}
	warnings := iter.Warnings()
	if err := iter.Close(); err != nil {
		return serverError(err)
	}
	isDescribe := len(toks) > 0 && (toks[0].text == "describe" || toks[0].text == "desc")
	if isDescribe {
		c.printDescribe(toks, rows)
	} else if len(cols) > 0 {
		c.printTable(cols, rows)
	}
	if len(warnings) > 0 {
		fmt.Fprint(c.stdout, "\nWarnings :\n")
		for _, w := range warnings {
			fmt.Fprintf(c.stdout, "%s\n\n", w)
		}
	}
	return nil
}

func (c *cqlshSession) printDescribe(toks []token, rows []map[string]any) {
	kind := ""
	if len(toks) > 1 {
		kind = toks[1].text
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	switch kind {
	case "keyspaces":
		var names []string
		for _, r := range rows {
			names = append(names, str(r, "name"))
		}
		fmt.Fprint(c.stdout, "\n"+columnize(names, 80)+"\n")
	case "tables":
		byKS := map[string][]string{}
		var kss []string
		for _, r := range rows {
			k := str(r, "keyspace_name")
			if _, ok := byKS[k]; !ok {
				kss = append(kss, k)
			}
			byKS[k] = append(byKS[k], str(r, "name"))
		}
		for _, k := range kss {
			if c.keyspace == "" {
				h := "Keyspace " + k
				fmt.Fprintf(c.stdout, "\n%s\n%s\n", h, strings.Repeat("-", len(h)))
			} else {
				fmt.Fprint(c.stdout, "\n")
			}
			fmt.Fprint(c.stdout, columnize(byKS[k], 80))
		}
		fmt.Fprint(c.stdout, "\n")
	default:
		for _, r := range rows {
			fmt.Fprintf(c.stdout, "\n%s\n", str(r, "create_statement"))
		}
	}
}

// columnize re-implements Python's cmd.Cmd.columnize.
func columnize(list []string, width int) string {
	if len(list) == 0 {
		return "<empty>\n"
	}
	size := len(list)
	if size == 1 {
		return list[0] + "\n"
	}
	var nrows int
	var colwidths []int
	found := false
	for nrows = 1; nrows < size; nrows++ {
		ncols := (size + nrows - 1) / nrows
		colwidths = nil
		totwidth := -2
		for col := 0; col < ncols; col++ {
			w := 0
			for row := 0; row < nrows; row++ {
				i := row + nrows*col
				if i >= size {
					break
				}
				if len(list[i]) > w {
					w = len(list[i])
				}
			}
			colwidths = append(colwidths, w)
			totwidth += w + 2
			if totwidth > width {
				break
			}
		}
		if totwidth <= width {
			found = true
			break
		}
	}
	if !found {
		nrows = size
		colwidths = []int{0}
	}
	var b strings.Builder
	for row := 0; row < nrows; row++ {
		var texts []string
		for col := 0; col < len(colwidths); col++ {
			i := row + nrows*col
			if i >= size {
				texts = append(texts, "")
			} else {
				texts = append(texts, list[i])
			}
		}
		for len(texts) > 0 && texts[len(texts)-1] == "" {
			texts = texts[:len(texts)-1]
		}
		for col := range texts {
			texts[col] += strings.Repeat(" ", colwidths[col]-len(texts[col]))
		}
		b.WriteString(strings.Join(texts, "  ") + "\n")
	}
	return b.String()
}

// formatCQLValue renders a value like cqlsh's formatter.
func formatCQLValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case []byte:
		return "0x" + fmt.Sprintf("%x", x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == math.Trunc(x) {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case net.IP:
		return x.String()
	case gocql.UUID:
		return x.String()
	case map[string]string:
		var keys []string
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("'%s': '%s'", k, x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []string:
		var parts []string
		for _, s := range x {
			parts = append(parts, "'"+s+"'")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Len() == 0 {
		return "null"
	}
	return fmt.Sprint(v)
}

func (c *cqlshSession) printTable(cols []gocql.ColumnInfo, rows []map[string]any) {
	widths := make([]int, len(cols))
	cells := make([][]string, len(rows))
	for i, col := range cols {
		widths[i] = len(col.Name)
	}
	for r, row := range rows {
		for i, col := range cols {
			s := formatCQLValue(row[col.Name])
			cells[r] = append(cells[r], s)
			if len(s) > widths[i] {
				widths[i] = len(s)
			}
		}
	}
	var hdr, sep []string
	for i, col := range cols {
		hdr = append(hdr, col.Name+strings.Repeat(" ", widths[i]-len(col.Name)))
		sep = append(sep, strings.Repeat("-", widths[i]))
	}
	fmt.Fprintf(c.stdout, "\n %s\n-%s-\n", strings.TrimRight(strings.Join(hdr, " | "), " "), strings.Join(sep, "-+-"))
	for _, r := range cells {
		var parts []string
		for i, s := range r {
			parts = append(parts, strings.Repeat(" ", widths[i]-len(s))+s)
		}
		fmt.Fprintf(c.stdout, " %s\n", strings.Join(parts, " | "))
	}
	fmt.Fprintf(c.stdout, "\n(%d rows)\n", len(rows))
}
