package cassandra

import (
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datastax/go-cassandra-native-protocol/client"
	"github.com/datastax/go-cassandra-native-protocol/datacodec"
	"github.com/datastax/go-cassandra-native-protocol/datatype"
	"github.com/datastax/go-cassandra-native-protocol/frame"
	"github.com/datastax/go-cassandra-native-protocol/message"
	"github.com/datastax/go-cassandra-native-protocol/primitive"
)

// attrState is the handler-context key of the per-connection state. It is
// stored once while handling STARTUP (clients wait for READY before sending
// anything else), so later concurrent requests only read the context map.
const attrState = "state"

// connState is the mutable per-connection state (login and current keyspace).
type connState struct {
	mu       sync.Mutex
	user     string
	keyspace string
}

func stateOf(ctx client.RequestHandlerContext) *connState {
	if s, ok := ctx.GetAttribute(attrState).(*connState); ok {
		return s
	}
	return nil
}

func (s *connState) get() (user, keyspace string) {
	if s == nil {
		return "", ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user, s.keyspace
}

// cqlResult is the outcome of executing one statement.
type cqlResult struct {
	msg      message.Message
	warnings []string
}

func invalid(format string, a ...any) *cqlResult {
	return &cqlResult{msg: &message.Invalid{ErrorMessage: fmt.Sprintf(format, a...)}}
}

// answering wraps a request handler so that a panic in it becomes a
// SERVER_ERROR reply (as Cassandra answers an unexpected exception) instead
// of killing the node with the request unanswered.
func answering(h client.RequestHandler) client.RequestHandler {
	return func(req *frame.Frame, conn *client.CqlServerConnection, ctx client.RequestHandlerContext) (resp *frame.Frame) {
		defer func() {
			if r := recover(); r != nil {
				resp = frame.NewFrame(req.Header.Version, req.Header.StreamId,
					&message.ServerError{ErrorMessage: fmt.Sprintf("java.lang.RuntimeException: %v", r)})
			}
		}()
		return h(req, conn, ctx)
	}
}

// handleCQL answers every request: it never returns nil, so no request stays unanswered.
func (n *Node) handleCQL(req *frame.Frame, conn *client.CqlServerConnection, ctx client.RequestHandlerContext) *frame.Frame {
	v, id := req.Header.Version, req.Header.StreamId
	reply := func(m message.Message) *frame.Frame { return frame.NewFrame(v, id, m) }
	switch m := req.Body.Message.(type) {
	case *message.Options:
		return reply(&message.Supported{Options: map[string][]string{
			"CQL_VERSION":       {"3.4.6"},
			"COMPRESSION":       {},
			"PROTOCOL_VERSIONS": {"3/v3", "4/v4", "5/v5"},
		}})
	case *message.Startup:
		if stateOf(ctx) == nil {
			ctx.PutAttribute(attrState, &connState{})
		}
		if n.cfg.Auth {
			return reply(&message.Authenticate{Authenticator: "org.apache.cassandra.auth.PasswordAuthenticator"})
		}
		st := stateOf(ctx)
		st.mu.Lock()
		st.user = "anonymous"
		st.mu.Unlock()
		return reply(&message.Ready{})
	case *message.AuthResponse:
		var cred client.AuthCredentials
		if err := cred.Unmarshal(m.Token); err != nil {
			return reply(&message.AuthenticationError{ErrorMessage: "Authentication failed: malformed token"})
		}
		n.mu.Lock()
		r, ok := n.roles[cred.Username]
		n.mu.Unlock()
		if !ok || r.Password != cred.Password {
			return reply(&message.AuthenticationError{ErrorMessage: fmt.Sprintf("Provided username %s and/or password are incorrect", cred.Username)})
		}
		if !r.Login {
			return reply(&message.AuthenticationError{ErrorMessage: fmt.Sprintf("%s is not permitted to log in", cred.Username)})
		}
		st := stateOf(ctx)
		if st == nil {
			return reply(&message.ProtocolError{ErrorMessage: "Unexpected message AUTH_RESPONSE, expecting STARTUP"})
		}
		st.mu.Lock()
		st.user = cred.Username
		st.mu.Unlock()
		return reply(&message.AuthSuccess{})
	case *message.Register:
		return reply(&message.Ready{})
	case *message.Query:
		if u, _ := stateOf(ctx).get(); u == "" {
			return reply(&message.Unauthorized{ErrorMessage: "You have not logged in"})
		}
		var vals []*primitive.Value
		if m.Options != nil {
			vals = m.Options.PositionalValues
		}
		res := n.execute(m.Query, vals, ctx, v)
		f := reply(res.msg)
		if len(res.warnings) > 0 {
			f.SetWarnings(res.warnings)
		}
		return f
	case *message.Prepare:
		if u, _ := stateOf(ctx).get(); u == "" {
			return reply(&message.Unauthorized{ErrorMessage: "You have not logged in"})
		}
		return reply(n.prepare(m.Query, m.Keyspace, ctx).msg)
	case *message.Execute:
		if u, _ := stateOf(ctx).get(); u == "" {
			return reply(&message.Unauthorized{ErrorMessage: "You have not logged in"})
		}
		n.mu.Lock()
		q, ok := n.prepared[string(m.QueryId)]
		n.mu.Unlock()
		if !ok {
			return reply(&message.Unprepared{ErrorMessage: "Prepared query with ID " + fmt.Sprintf("%x", m.QueryId) + " not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)", Id: m.QueryId})
		}
		var vals []*primitive.Value
		if m.Options != nil {
			vals = m.Options.PositionalValues
		}
		res := n.execute(q, vals, ctx, v)
		f := reply(res.msg)
		if len(res.warnings) > 0 {
			f.SetWarnings(res.warnings)
		}
		return f
	case *message.Batch:
		return reply(&message.Invalid{ErrorMessage: "Batch statements are not supported by this node"})
	default:
		return reply(&message.ProtocolError{ErrorMessage: fmt.Sprintf("Unexpected message %v", req.Header.OpCode)})
	}
}

// vcol is a column of a virtual (system) table.
type vcol struct {
	name string
	dt   datatype.DataType
}

func cols(ks, table string, defs ...vcol) []*message.ColumnMetadata {
	out := make([]*message.ColumnMetadata, len(defs))
	for i, d := range defs {
		out[i] = &message.ColumnMetadata{Keyspace: ks, Table: table, Name: d.name, Type: d.dt}
	}
	return out
}

var (
	tText      = datatype.Varchar
	tTextSet   = datatype.NewSet(datatype.Varchar)
	tTextMap   = datatype.NewMap(datatype.Varchar, datatype.Varchar)
	tBlobMap   = datatype.NewMap(datatype.Varchar, datatype.Blob)
	tUUIDBlob  = datatype.NewMap(datatype.Uuid, datatype.Blob)
	tTextList  = datatype.NewList(datatype.Varchar)
	localCols  = []vcol{{"key", tText}, {"bootstrapped", tText}, {"broadcast_address", datatype.Inet}, {"broadcast_port", datatype.Int}, {"cluster_name", tText}, {"cql_version", tText}, {"data_center", tText}, {"gossip_generation", datatype.Int}, {"host_id", datatype.Uuid}, {"listen_address", datatype.Inet}, {"listen_port", datatype.Int}, {"native_protocol_version", tText}, {"partitioner", tText}, {"rack", tText}, {"release_version", tText}, {"rpc_address", datatype.Inet}, {"rpc_port", datatype.Int}, {"schema_version", datatype.Uuid}, {"tokens", tTextSet}, {"truncated_at", tUUIDBlob}}
	peersV2Col = []vcol{{"peer", datatype.Inet}, {"peer_port", datatype.Int}, {"data_center", tText}, {"host_id", datatype.Uuid}, {"native_address", datatype.Inet}, {"native_port", datatype.Int}, {"preferred_ip", datatype.Inet}, {"preferred_port", datatype.Int}, {"rack", tText}, {"release_version", tText}, {"schema_version", datatype.Uuid}, {"tokens", tTextSet}}
	peersCols  = []vcol{{"peer", datatype.Inet}, {"data_center", tText}, {"host_id", datatype.Uuid}, {"preferred_ip", datatype.Inet}, {"rack", tText}, {"release_version", tText}, {"rpc_address", datatype.Inet}, {"schema_version", datatype.Uuid}, {"tokens", tTextSet}}
	ksCols     = []vcol{{"keyspace_name", tText}, {"durable_writes", datatype.Boolean}, {"replication", tTextMap}}
	tablesCols = []vcol{{"keyspace_name", tText}, {"table_name", tText}, {"additional_write_policy", tText}, {"bloom_filter_fp_chance", datatype.Double}, {"caching", tTextMap}, {"cdc", datatype.Boolean}, {"comment", tText}, {"compaction", tTextMap}, {"compression", tTextMap}, {"crc_check_chance", datatype.Double}, {"dclocal_read_repair_chance", datatype.Double}, {"default_time_to_live", datatype.Int}, {"extensions", tBlobMap}, {"flags", tTextSet}, {"gc_grace_seconds", datatype.Int}, {"id", datatype.Uuid}, {"max_index_interval", datatype.Int}, {"memtable", tText}, {"memtable_flush_period_in_ms", datatype.Int}, {"min_index_interval", datatype.Int}, {"read_repair", tText}, {"read_repair_chance", datatype.Double}, {"speculative_retry", tText}}
	columnCols = []vcol{{"keyspace_name", tText}, {"table_name", tText}, {"column_name", tText}, {"clustering_order", tText}, {"column_name_bytes", datatype.Blob}, {"kind", tText}, {"position", datatype.Int}, {"type", tText}}
	emptyCols  = map[string][]vcol{
		"views":           {{"keyspace_name", tText}, {"view_name", tText}, {"base_table_id", datatype.Uuid}, {"base_table_name", tText}, {"include_all_columns", datatype.Boolean}, {"where_clause", tText}, {"id", datatype.Uuid}},
		"types":           {{"keyspace_name", tText}, {"type_name", tText}, {"field_names", tTextList}, {"field_types", tTextList}},
		"functions":       {{"keyspace_name", tText}, {"function_name", tText}, {"argument_types", tTextList}, {"argument_names", tTextList}, {"body", tText}, {"called_on_null_input", datatype.Boolean}, {"language", tText}, {"return_type", tText}},
		"aggregates":      {{"keyspace_name", tText}, {"aggregate_name", tText}, {"argument_types", tTextList}, {"final_func", tText}, {"initcond", tText}, {"return_type", tText}, {"state_func", tText}, {"state_type", tText}},
		"indexes":         {{"keyspace_name", tText}, {"table_name", tText}, {"index_name", tText}, {"kind", tText}, {"options", tTextMap}},
		"triggers":        {{"keyspace_name", tText}, {"table_name", tText}, {"trigger_name", tText}, {"options", tTextMap}},
		"dropped_columns": {{"keyspace_name", tText}, {"table_name", tText}, {"column_name", tText}, {"dropped_time", datatype.Timestamp}, {"kind", tText}, {"type", tText}},
	}
)

// virtualTable returns the columns and rows of a system table, or ok=false.
func (n *Node) virtualTable(ks, table string) (defs []vcol, rows [][]any, ok bool) {
	switch ks + "." + table {
	case "system.local":
		self := n.selfInfo()
		ip := net.ParseIP(n.cfg.ListenAddress)
		return localCols, [][]any{{"local", "COMPLETED", ip, int32(storagePort), n.cfg.ClusterName, "3.4.6", n.cfg.DC, int32(self.Generation), self.HostID, ip, int32(storagePort), "5", "org.apache.cassandra.dht.Murmur3Partitioner", n.cfg.Rack, self.ReleaseVersion, ip, int32(n.cfg.CQLPort), self.SchemaVersion, self.Tokens, nil}}, true
	case "system.peers_v2", "system.peers":
		sv := n.schemaVersion()
		for _, p := range n.cfg.Peers {
			ip := net.ParseIP(p)
			var toks []string
			for _, t := range NodeTokens(p) {
				toks = append(toks, strconv.FormatInt(t, 10))
			}
			if table == "peers_v2" {
				rows = append(rows, []any{ip, int32(storagePort), n.cfg.DC, HostID(p), ip, int32(n.cfg.CQLPort), nil, nil, n.cfg.Rack, n.cfg.ReleaseVersion, sv, toks})
			} else {
				rows = append(rows, []any{ip, n.cfg.DC, HostID(p), nil, n.cfg.Rack, n.cfg.ReleaseVersion, ip, sv, toks})
			}
		}
		if table == "peers_v2" {
			return peersV2Col, rows, true
		}
		return peersCols, rows, true
	case "system_schema.keyspaces":
		for _, k := range n.allKeyspaces() {
			rows = append(rows, []any{k.Name, k.DurableWrites, k.Replication})
		}
		return ksCols, rows, true
	case "system_schema.tables":
		for _, k := range n.allKeyspaces() {
			for _, t := range k.Tables {
				f := func(o string) float64 { v, _ := strconv.ParseFloat(t.option(o), 64); return v }
				i := func(o string) int32 { v, _ := strconv.Atoi(t.option(o)); return int32(v) }
				s := func(o string) string { return strings.Trim(t.option(o), "'") }
				rows = append(rows, []any{k.Name, t.Name, s("additional_write_policy"), f("bloom_filter_fp_chance"), parseMapText(t.option("caching")), t.option("cdc") == "true", s("comment"), parseMapText(t.option("compaction")), parseMapText(t.option("compression")), f("crc_check_chance"), 0.0, i("default_time_to_live"), map[string][]byte{}, []string{"compound"}, i("gc_grace_seconds"), t.ID, i("max_index_interval"), s("memtable"), i("memtable_flush_period_in_ms"), i("min_index_interval"), s("read_repair"), 0.0, s("speculative_retry")})
			}
		}
		return tablesCols, rows, true
	case "system_schema.columns":
		for _, k := range n.allKeyspaces() {
			for _, t := range k.Tables {
				for _, c := range t.Columns {
					rows = append(rows, []any{k.Name, t.Name, c.Name, c.Order, []byte(c.Name), c.Kind, int32(c.Position), c.Type})
				}
			}
		}
		return columnCols, rows, true
	}
	if ks == "system_schema" {
		if d, ok := emptyCols[table]; ok {
			return d, nil, true
		}
	}
	return nil, nil, false
}

// allKeyspaces returns system keyspaces (without tables) followed by the user keyspaces.
func (n *Node) allKeyspaces() []*Keyspace {
	out := systemKeyspaces()
	kss, _ := n.store.Keyspaces()
	return append(out, kss...)
}

// selectStmt is a parsed SELECT.
type selectStmt struct {
	keyspace, table string
	star, count     bool
	columns         []string
	where           [][2]string // column, literal ('?' for markers)
	limit           int
}

func parseSelect(p *parser, current string) (*selectStmt, error) {
	s := &selectStmt{}
	if err := p.expect("select"); err != nil {
		return nil, err
	}
	p.accept("json")
	switch {
	case p.accept("*"):
		s.star = true
	case p.is("count", "("):
		p.i += 2
		if !p.accept("*") && p.next() == nil {
			return nil, p.errAt()
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		s.count = true
		if p.accept("as") {
			if _, err := p.ident(); err != nil {
				return nil, err
			}
		}
	default:
		for {
			c, err := p.ident()
			if err != nil {
				return nil, err
			}
			s.columns = append(s.columns, c)
			if !p.accept(",") {
				break
			}
		}
	}
	if err := p.expect("from"); err != nil {
		return nil, err
	}
	ks, t, err := p.qualified(current)
	if err != nil {
		return nil, err
	}
	s.keyspace, s.table = ks, t
	if p.accept("where") {
		for {
			c, err := p.ident()
			if err != nil {
				return nil, err
			}
			if err := p.expect("="); err != nil {
				return nil, err
			}
			v := p.next()
			if v == nil {
				return nil, p.errAt()
			}
			s.where = append(s.where, [2]string{c, v.text})
			if !p.accept("and") {
				break
			}
		}
	}
	if p.accept("limit") {
		v := p.next()
		if v == nil || v.kind != tkNumber {
			return nil, p.errAt()
		}
		s.limit, _ = strconv.Atoi(v.text)
	}
	p.accept("allow", "filtering")
	p.accept(";")
	if p.peek() != nil {
		return nil, p.errAt()
	}
	return s, nil
}

func (n *Node) keyspaceOf(ctx client.RequestHandlerContext) string {
	_, ks := stateOf(ctx).get()
	return ks
}

// prepare answers PREPARE: variables are the '?' markers of a SELECT's WHERE clause.
func (n *Node) prepare(q, keyspace string, ctx client.RequestHandlerContext) *cqlResult {
	current := n.keyspaceOf(ctx)
	if keyspace != "" {
		current = keyspace
	}
	toks, err := lexCQL(q)
	if err != nil {
		return &cqlResult{msg: &message.SyntaxError{ErrorMessage: err.Error()}}
	}
	p := &parser{src: q, toks: toks}
	vars := &message.VariablesMetadata{}
	resMeta := &message.RowsMetadata{}
	if p.is("select") {
		s, err := parseSelect(p, current)
		if err != nil {
			return &cqlResult{msg: &message.SyntaxError{ErrorMessage: err.Error()}}
		}
		defs, _, ok := n.virtualTable(s.keyspace, s.table)
		if ok {
			for _, w := range s.where {
				if w[1] != "?" {
					continue
				}
				dt := datatype.DataType(tText)
				for _, d := range defs {
					if d.name == w[0] {
						dt = d.dt
					}
				}
				vars.Columns = append(vars.Columns, &message.ColumnMetadata{Keyspace: s.keyspace, Table: s.table, Name: w[0], Type: dt})
			}
			pc, errRes := project(s, defs)
			if errRes != nil {
				return errRes
			}
			resMeta.Columns = pc
			resMeta.ColumnCount = int32(len(pc))
			if len(vars.Columns) > 0 {
				vars.PkIndices = []uint16{0}
			}
		} else if s.count {
			resMeta.Columns = cols(s.keyspace, s.table, vcol{"count", datatype.Bigint})
			resMeta.ColumnCount = 1
		}
	} else if strings.Contains(q, "?") {
		return invalid("Bind variables are not supported by this node outside SELECT")
	}
	id := md5.Sum([]byte(current + "\x00" + q))
	n.mu.Lock()
	n.prepared[string(id[:])] = q
	n.mu.Unlock()
	mid := md5.Sum([]byte(fmt.Sprint(resMeta.ColumnCount)))
	return &cqlResult{msg: &message.PreparedResult{PreparedQueryId: id[:], ResultMetadataId: mid[:], VariablesMetadata: vars, ResultMetadata: resMeta}}
}

// project computes the result columns of a SELECT over a virtual table.
func project(s *selectStmt, defs []vcol) ([]*message.ColumnMetadata, *cqlResult) {
	if s.count {
		return cols(s.keyspace, s.table, vcol{"count", datatype.Bigint}), nil
	}
	if s.star {
		return cols(s.keyspace, s.table, defs...), nil
	}
	var out []vcol
	for _, c := range s.columns {
		found := false
		for _, d := range defs {
			if d.name == c {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			return nil, invalid("Undefined column name %s in table %s.%s", c, s.keyspace, s.table)
		}
	}
	return cols(s.keyspace, s.table, out...), nil
}

// execute runs one statement.
func (n *Node) execute(q string, vals []*primitive.Value, ctx client.RequestHandlerContext, v primitive.ProtocolVersion) *cqlResult {
	toks, err := lexCQL(q)
	if err != nil {
		return &cqlResult{msg: &message.SyntaxError{ErrorMessage: err.Error()}}
	}
	if len(toks) == 0 {
		return &cqlResult{msg: &message.SyntaxError{ErrorMessage: "line 0:-1 no viable alternative at input '<EOF>'"}}
	}
	p := &parser{src: q, toks: toks}
	current := n.keyspaceOf(ctx)
	user, _ := stateOf(ctx).get()
	var res *cqlResult
	switch {
	case p.is("select"):
		res = n.execSelect(p, current, vals, v)
	case p.is("use"):
		p.i++
		ks, err := p.ident()
		if err != nil {
			return &cqlResult{msg: &message.SyntaxError{ErrorMessage: err.Error()}}
		}
		if !n.keyspaceExists(ks) {
			return invalid("Keyspace '%s' does not exist", ks)
		}
		st := stateOf(ctx)
		st.mu.Lock()
		st.keyspace = ks
		st.mu.Unlock()
		return &cqlResult{msg: &message.SetKeyspaceResult{Keyspace: ks}}
	case p.is("describe"), p.is("desc"):
		res = n.execDescribe(p, current, v)
	case p.is("create", "keyspace"), p.is("alter", "keyspace"):
		res = n.execCreateKeyspace(p)
	case p.is("create", "table"), p.is("create", "columnfamily"):
		res = n.execCreateTable(p, current)
	case p.is("drop", "keyspace"):
		res = n.execDropKeyspace(p)
	case p.is("drop", "table"), p.is("drop", "columnfamily"):
		res = n.execDropTable(p, current)
	case p.is("truncate"):
		res = n.execTruncate(p, current)
	case p.is("grant"):
		res = n.execGrant(p, user)
	case p.is("create", "role"), p.is("create", "user"):
		res = n.execCreateRole(p, user)
	default:
		return &cqlResult{msg: &message.SyntaxError{ErrorMessage: p.errAt().Error()}}
	}
	return res
}

func (n *Node) keyspaceExists(ks string) bool {
	if isSystemKeyspace(ks) {
		return true
	}
	_, err := n.store.Keyspace(ks)
	return err == nil
}

func syntaxOr(err error) *cqlResult {
	var se *syntaxError
	if errors.As(err, &se) {
		return &cqlResult{msg: &message.SyntaxError{ErrorMessage: se.msg}}
	}
	return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
}

func (n *Node) execSelect(p *parser, current string, vals []*primitive.Value, v primitive.ProtocolVersion) *cqlResult {
	s, err := parseSelect(p, current)
	if err != nil {
		return syntaxOr(err)
	}
	if s.keyspace == "" {
		return invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	if defs, rows, ok := n.virtualTable(s.keyspace, s.table); ok {
		pc, errRes := project(s, defs)
		if errRes != nil {
			return errRes
		}
		// WHERE equality filters (markers take bound values in order).
		mi := 0
		var filtered [][]any
		type cond struct {
			idx  int
			want string
		}
		var conds []cond
		for _, w := range s.where {
			idx := -1
			for i, d := range defs {
				if d.name == w[0] {
					idx = i
				}
			}
			if idx < 0 {
				return invalid("Undefined column name %s in table %s.%s", w[0], s.keyspace, s.table)
			}
			want := w[1]
			if want == "?" {
				if mi >= len(vals) {
					return invalid("There were %d markers(?) in CQL but %d bound variables", mi+1, len(vals))
				}
				want = string(vals[mi].Contents)
				if defs[idx].dt == datatype.Inet {
					want = net.IP(vals[mi].Contents).String()
				}
				mi++
			}
			conds = append(conds, cond{idx, want})
		}
		for _, r := range rows {
			keep := true
			for _, c := range conds {
				if fmt.Sprint(r[c.idx]) != c.want {
					keep = false
				}
			}
			if keep {
				filtered = append(filtered, r)
			}
		}
		if s.limit > 0 && len(filtered) > s.limit {
			filtered = filtered[:s.limit]
		}
		if s.count {
			return rowsResult(pc, [][]any{{int64(len(filtered))}}, v)
		}
		var out [][]any
		for _, r := range filtered {
			var row []any
			for _, c := range pc {
				for i, d := range defs {
					if d.name == c.Name {
						row = append(row, r[i])
					}
				}
			}
			out = append(out, row)
		}
		return rowsResult(pc, out, v)
	}
	if isSystemKeyspace(s.keyspace) {
		return invalid("unconfigured table %s", s.table)
	}
	k, err := n.store.Keyspace(s.keyspace)
	if err != nil {
		return invalid("keyspace %s does not exist", s.keyspace)
	}
	t := k.Table(s.table)
	if t == nil {
		return invalid("unconfigured table %s", s.table)
	}
	if len(s.where) > 0 {
		return invalid("Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING")
	}
	if s.count {
		c := n.countRows(s.keyspace, s.table, k.ReplicationFactor())
		switch {
		case c.unavailable:
			return &cqlResult{msg: &message.Unavailable{ErrorMessage: "Cannot achieve consistency level ONE",
				Consistency: primitive.ConsistencyLevelOne, Required: 1, Alive: 0}}
		case c.err != nil:
			return &cqlResult{msg: &message.ServerError{ErrorMessage: c.err.Error()}}
		}
		r := rowsResult(cols(s.keyspace, s.table, vcol{"count", datatype.Bigint}), [][]any{{c.count}}, v)
		r.warnings = []string{"Aggregation query used without partition key"}
		return r
	}
	// SELECT of user rows (blob columns key, column1, value only).
	limit := s.limit
	if limit <= 0 {
		limit = 10000
	}
	dir, _ := n.store.TableDir(s.keyspace, s.table)
	gens, _ := generations(dir)
	var out [][]any
	stop := errors.New("stop")
	for _, g := range gens {
		err := ReadDataFile(fmt.Sprintf("%s/nb-%d-big-Data.db", dir, g), func(r Row) error {
			out = append(out, []any{r.Key, r.Column1, r.Value})
			if len(out) >= limit {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
		}
		if len(out) >= limit {
			break
		}
	}
	defs := []vcol{{"key", datatype.Blob}, {"column1", datatype.Blob}, {"value", datatype.Blob}}
	pc, errRes := project(s, defs)
	if errRes != nil {
		return errRes
	}
	var proj [][]any
	for _, r := range out {
		var row []any
		for _, c := range pc {
			for i, d := range defs {
				if d.name == c.Name {
					row = append(row, r[i])
				}
			}
		}
		proj = append(proj, row)
	}
	return rowsResult(pc, proj, v)
}

// rowsResult encodes Go values into a ROWS result.
func rowsResult(meta []*message.ColumnMetadata, rows [][]any, v primitive.ProtocolVersion) *cqlResult {
	data := message.RowSet{}
	for _, r := range rows {
		var row message.Row
		for i, c := range meta {
			codec, err := datacodec.NewCodec(c.Type)
			if err != nil {
				return &cqlResult{msg: &message.ServerError{ErrorMessage: "encode " + c.Name + ": " + err.Error()}}
			}
			b, err := codec.Encode(r[i], v)
			if err != nil {
				return &cqlResult{msg: &message.ServerError{ErrorMessage: "encode " + c.Name + ": " + err.Error()}}
			}
			row = append(row, b)
		}
		data = append(data, row)
	}
	return &cqlResult{msg: &message.RowsResult{Metadata: &message.RowsMetadata{ColumnCount: int32(len(meta)), Columns: meta}, Data: data}}
}

var describeCols = []vcol{{"keyspace_name", tText}, {"type", tText}, {"name", tText}, {"create_statement", tText}}

func (n *Node) execDescribe(p *parser, current string, v primitive.ProtocolVersion) *cqlResult {
	p.i++
	p.accept("full")
	meta := func(k int) []*message.ColumnMetadata { return cols("system", "describe", describeCols[:k]...) }
	internals := func() bool {
		for _, t := range p.toks[p.i:] {
			if t.text == "internals" {
				return true
			}
		}
		return false
	}
	switch {
	case p.accept("keyspaces"):
		var rows [][]any
		names := []string{"system_views", "system_virtual_schema"}
		for _, k := range n.allKeyspaces() {
			names = append(names, k.Name)
		}
		sort.Strings(names)
		for _, k := range names {
			rows = append(rows, []any{k, "keyspace", k})
		}
		return rowsResult(meta(3), rows, v)
	case p.accept("tables"):
		var rows [][]any
		kss, _ := n.store.Keyspaces()
		for _, k := range kss {
			if current != "" && k.Name != current {
				continue
			}
			for _, t := range k.Tables {
				rows = append(rows, []any{k.Name, "table", t.Name})
			}
		}
		return rowsResult(meta(3), rows, v)
	case p.accept("table"), p.accept("columnfamily"):
		ks, name, err := p.qualified(current)
		if err != nil {
			return syntaxOr(err)
		}
		if ks == "" {
			return invalid("No keyspace specified and no current keyspace")
		}
		k, err := n.store.Keyspace(ks)
		if err != nil {
			return invalid("'%s' not found in keyspaces", ks)
		}
		t := k.Table(name)
		if t == nil {
			return invalid("'%s' not found in keyspace '%s'", name, ks)
		}
		return rowsResult(meta(4), [][]any{{ks, "table", t.Name, n.tableStmt(ks, t, internals())}}, v)
	default:
		p.accept("keyspace")
		name := current
		if t := p.peek(); t != nil && (t.kind == tkIdent || t.kind == tkQuoted) && t.text != "with" {
			name = t.text
			p.i++
		}
		if name == "" {
			return invalid("No keyspace specified and no current keyspace")
		}
		k, err := n.store.Keyspace(name)
		if err != nil {
			if isSystemKeyspace(name) {
				return invalid("Describing system keyspace %s is not supported by this node", name)
			}
			return invalid("'%s' not found in keyspaces", name)
		}
		rows := [][]any{{k.Name, "keyspace", k.Name, k.CreateStatement()}}
		ts := append([]*Table(nil), k.Tables...)
		sort.Slice(ts, func(i, j int) bool { return strings.ToLower(ts[i].Name) < strings.ToLower(ts[j].Name) })
		in := internals()
		for _, t := range ts {
			rows = append(rows, []any{k.Name, "table", t.Name, n.tableStmt(k.Name, t, in)})
		}
		return rowsResult(meta(4), rows, v)
	}
}

// tableStmt renders DESCRIBE TABLE; WITH INTERNALS adds the table ID like 4.x.
func (n *Node) tableStmt(ks string, t *Table, internals bool) string {
	s := t.CreateStatement(ks, false)
	if internals {
		s = strings.Replace(s, ") WITH ", ") WITH ID = "+t.ID+"\n    AND ", 1)
	}
	return s
}

func (n *Node) execCreateKeyspace(p *parser) *cqlResult {
	alter := p.is("alter")
	p.i += 2
	ifNot := p.accept("if", "not", "exists")
	name, err := p.ident()
	if err != nil {
		return syntaxOr(err)
	}
	if err := p.expect("with"); err != nil {
		return syntaxOr(err)
	}
	var repl map[string]string
	durable := true
	for {
		opt, err := p.ident()
		if err != nil {
			return syntaxOr(err)
		}
		if err := p.expect("="); err != nil {
			return syntaxOr(err)
		}
		switch opt {
		case "replication":
			if repl, err = p.mapLiteral(); err != nil {
				return syntaxOr(err)
			}
		case "durable_writes":
			lit, err := p.literal()
			if err != nil {
				return syntaxOr(err)
			}
			durable = strings.Trim(strings.ToLower(lit), "'") == "true"
		default:
			return &cqlResult{msg: &message.SyntaxError{ErrorMessage: fmt.Sprintf("Unknown property '%s'", opt)}}
		}
		if !p.accept("and") {
			break
		}
	}
	p.accept(";")
	if p.peek() != nil {
		return syntaxOr(p.errAt())
	}
	if repl == nil && !alter {
		return &cqlResult{msg: &message.ConfigError{ErrorMessage: "Missing mandatory option 'replication'"}}
	}
	if repl != nil {
		cls, ok := repl["class"]
		if !ok {
			return &cqlResult{msg: &message.ConfigError{ErrorMessage: "Missing replication strategy class"}}
		}
		switch shortClass(cls) {
		case "SimpleStrategy":
			if _, ok := repl["replication_factor"]; !ok {
				return &cqlResult{msg: &message.ConfigError{ErrorMessage: "SimpleStrategy requires a replication_factor strategy option."}}
			}
		case "NetworkTopologyStrategy":
			if rf, ok := repl["replication_factor"]; ok {
				delete(repl, "replication_factor")
				repl[n.cfg.DC] = rf
			}
		default:
			return &cqlResult{msg: &message.ConfigError{ErrorMessage: fmt.Sprintf("Unable to find replication strategy class '%s'", cls)}}
		}
		repl["class"] = fullClass(shortClass(cls))
	}
	if isSystemKeyspace(name) {
		return &cqlResult{msg: &message.Unauthorized{ErrorMessage: fmt.Sprintf("Cannot alter system keyspace %s", name)}}
	}
	if alter {
		k, err := n.store.Keyspace(name)
		if err != nil {
			return invalid("Keyspace '%s' doesn't exist", name)
		}
		if repl != nil {
			k.Replication = repl
		}
		k.DurableWrites = durable
		if err := n.store.PutKeyspace(k); err != nil {
			return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
		}
		n.propagate(SchemaOp{Op: "alter_keyspace", Keyspace: k})
		return &cqlResult{msg: &message.SchemaChangeResult{ChangeType: primitive.SchemaChangeTypeUpdated, Target: primitive.SchemaChangeTargetKeyspace, Keyspace: name}}
	}
	k := &Keyspace{Name: name, Replication: repl, DurableWrites: durable}
	created, err := n.store.CreateKeyspace(k, ifNot)
	if errors.Is(err, ErrExists) {
		return &cqlResult{msg: &message.AlreadyExists{ErrorMessage: fmt.Sprintf("Cannot add already existing keyspace \"%s\"", name), Keyspace: name}}
	}
	if err != nil {
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	if !created {
		return &cqlResult{msg: &message.VoidResult{}}
	}
	n.propagate(SchemaOp{Op: "create_keyspace", Keyspace: k})
	return &cqlResult{msg: &message.SchemaChangeResult{ChangeType: primitive.SchemaChangeTypeCreated, Target: primitive.SchemaChangeTargetKeyspace, Keyspace: name}}
}

func (n *Node) execCreateTable(p *parser, current string) *cqlResult {
	p.i += 2
	ifNot := p.accept("if", "not", "exists")
	ks, name, err := p.qualified(current)
	if err != nil {
		return syntaxOr(err)
	}
	if ks == "" {
		return invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	if err := p.expect("("); err != nil {
		return syntaxOr(err)
	}
	t := &Table{Name: name, Options: map[string]string{}}
	var pk, ck []string
	for {
		if p.accept("primary", "key") {
			if err := p.expect("("); err != nil {
				return syntaxOr(err)
			}
			if p.accept("(") {
				for {
					c, err := p.ident()
					if err != nil {
						return syntaxOr(err)
					}
					pk = append(pk, c)
					if !p.accept(",") {
						break
					}
				}
				if err := p.expect(")"); err != nil {
					return syntaxOr(err)
				}
			} else {
				c, err := p.ident()
				if err != nil {
					return syntaxOr(err)
				}
				pk = append(pk, c)
			}
			for p.accept(",") {
				c, err := p.ident()
				if err != nil {
					return syntaxOr(err)
				}
				ck = append(ck, c)
			}
			if err := p.expect(")"); err != nil {
				return syntaxOr(err)
			}
		} else {
			c, err := p.ident()
			if err != nil {
				return syntaxOr(err)
			}
			typ, err := p.typeName()
			if err != nil {
				return syntaxOr(err)
			}
			t.Columns = append(t.Columns, Column{Name: c, Type: typ, Kind: "regular", Position: -1, Order: "none"})
			if p.accept("primary", "key") {
				pk = append(pk, c)
			}
		}
		if !p.accept(",") {
			break
		}
	}
	if err := p.expect(")"); err != nil {
		return syntaxOr(err)
	}
	order := map[string]string{}
	if p.accept("with") {
		for {
			if p.accept("clustering", "order", "by") {
				if err := p.expect("("); err != nil {
					return syntaxOr(err)
				}
				for {
					c, err := p.ident()
					if err != nil {
						return syntaxOr(err)
					}
					dir := "asc"
					if p.accept("desc") {
						dir = "desc"
					} else {
						p.accept("asc")
					}
					order[c] = dir
					if !p.accept(",") {
						break
					}
				}
				if err := p.expect(")"); err != nil {
					return syntaxOr(err)
				}
			} else if p.accept("compact", "storage") {
				return invalid("Compact tables are not allowed in Cassandra starting with 4.0 version.")
			} else {
				opt, err := p.ident()
				if err != nil {
					return syntaxOr(err)
				}
				if err := p.expect("="); err != nil {
					return syntaxOr(err)
				}
				if opt == "id" {
					t.ID, err = p.uuidLiteral()
					if err != nil {
						return syntaxOr(err)
					}
				} else {
					lit, err := p.literal()
					if err != nil {
						return syntaxOr(err)
					}
					if !knownTableOption(opt) {
						return &cqlResult{msg: &message.SyntaxError{ErrorMessage: fmt.Sprintf("Unknown property '%s'", opt)}}
					}
					if opt == "compression" || opt == "compaction" {
						m := parseMapText(lit)
						if c, ok := m["class"]; ok && !strings.Contains(c, ".") {
							if opt == "compression" {
								m["class"] = "org.apache.cassandra.io.compress." + c
							} else {
								m["class"] = "org.apache.cassandra.db.compaction." + c
							}
						}
						if v, ok := m["chunk_length_kb"]; ok {
							delete(m, "chunk_length_kb")
							m["chunk_length_in_kb"] = v
						}
						if c, ok := m["sstable_compression"]; ok {
							delete(m, "sstable_compression")
							if !strings.Contains(c, ".") {
								c = "org.apache.cassandra.io.compress." + c
							}
							m["class"] = c
						}
						lit = renderMap(m)
					}
					t.Options[opt] = lit
				}
			}
			if !p.accept("and") {
				break
			}
		}
	}
	p.accept(";")
	if p.peek() != nil {
		return syntaxOr(p.errAt())
	}
	if len(pk) == 0 {
		return invalid("No PRIMARY KEY specifed for table '%s' (exactly one required)", name)
	}
	kind := func(c, k string, pos int) bool {
		for i := range t.Columns {
			if t.Columns[i].Name == c {
				t.Columns[i].Kind, t.Columns[i].Position = k, pos
				if k == "clustering" {
					t.Columns[i].Order = "asc"
					if o, ok := order[c]; ok {
						t.Columns[i].Order = o
					}
				}
				return true
			}
		}
		return false
	}
	for i, c := range pk {
		if !kind(c, "partition_key", i) {
			return invalid("Unknown definition %s referenced in PRIMARY KEY", c)
		}
	}
	for i, c := range ck {
		if !kind(c, "clustering", i) {
			return invalid("Unknown definition %s referenced in PRIMARY KEY", c)
		}
	}
	if t.ID == "" {
		t.ID = deterministicUUID(fmt.Sprintf("table/%s/%s/%d", ks, name, nowNano()))
	}
	if _, err := primitive.ParseUuid(t.ID); err != nil {
		return syntaxOr(&syntaxError{fmt.Sprintf("Invalid table id %s", t.ID)})
	}
	if isSystemKeyspace(ks) {
		return &cqlResult{msg: &message.Unauthorized{ErrorMessage: fmt.Sprintf("Cannot CREATE <table %s.%s>", ks, name)}}
	}
	created, err := n.store.CreateTable(ks, t, ifNot)
	switch {
	case errors.Is(err, ErrExists):
		return &cqlResult{msg: &message.AlreadyExists{ErrorMessage: fmt.Sprintf("Cannot add already existing table \"%s\" to keyspace \"%s\"", name, ks), Keyspace: ks, Table: name}}
	case errors.Is(err, ErrNotFound):
		return invalid("Keyspace '%s' doesn't exist", ks)
	case err != nil:
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	if !created {
		return &cqlResult{msg: &message.VoidResult{}}
	}
	n.propagate(SchemaOp{Op: "create_table", Name: ks, Table: t})
	return &cqlResult{msg: &message.SchemaChangeResult{ChangeType: primitive.SchemaChangeTypeCreated, Target: primitive.SchemaChangeTargetTable, Keyspace: ks, Object: name}}
}

// typeName reads a CQL type such as blob, frozen<map<text, int>>.
func (p *parser) typeName() (string, error) {
	t, err := p.ident()
	if err != nil {
		return "", err
	}
	if !p.accept("<") {
		return t, nil
	}
	var args []string
	for {
		a, err := p.typeName()
		if err != nil {
			return "", err
		}
		args = append(args, a)
		if !p.accept(",") {
			break
		}
	}
	if err := p.expect(">"); err != nil {
		return "", err
	}
	return t + "<" + strings.Join(args, ", ") + ">", nil
}

func (n *Node) execDropKeyspace(p *parser) *cqlResult {
	p.i += 2
	ifExists := p.accept("if", "exists")
	name, err := p.ident()
	if err != nil {
		return syntaxOr(err)
	}
	p.accept(";")
	if p.peek() != nil {
		return syntaxOr(p.errAt())
	}
	if isSystemKeyspace(name) {
		return &cqlResult{msg: &message.Unauthorized{ErrorMessage: fmt.Sprintf("Cannot DROP <keyspace %s>", name)}}
	}
	dropped, err := n.store.DropKeyspace(name, ifExists)
	if errors.Is(err, ErrNotFound) {
		return &cqlResult{msg: &message.ConfigError{ErrorMessage: fmt.Sprintf("Cannot drop non existing keyspace '%s'.", name)}}
	}
	if err != nil {
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	if !dropped {
		return &cqlResult{msg: &message.VoidResult{}}
	}
	n.propagate(SchemaOp{Op: "drop_keyspace", Name: name})
	return &cqlResult{msg: &message.SchemaChangeResult{ChangeType: primitive.SchemaChangeTypeDropped, Target: primitive.SchemaChangeTargetKeyspace, Keyspace: name}}
}

func (n *Node) execDropTable(p *parser, current string) *cqlResult {
	p.i += 2
	ifExists := p.accept("if", "exists")
	ks, name, err := p.qualified(current)
	if err != nil {
		return syntaxOr(err)
	}
	if ks == "" {
		return invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	dropped, err := n.store.DropTable(ks, name, ifExists)
	if errors.Is(err, ErrNotFound) {
		if !n.keyspaceExists(ks) {
			return invalid("Keyspace '%s' doesn't exist", ks)
		}
		return &cqlResult{msg: &message.ConfigError{ErrorMessage: fmt.Sprintf("Cannot drop non existing table '%s' in keyspace '%s'.", name, ks)}}
	}
	if err != nil {
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	if !dropped {
		return &cqlResult{msg: &message.VoidResult{}}
	}
	n.propagate(SchemaOp{Op: "drop_table", Name: ks, TableName: name})
	return &cqlResult{msg: &message.SchemaChangeResult{ChangeType: primitive.SchemaChangeTypeDropped, Target: primitive.SchemaChangeTargetTable, Keyspace: ks, Object: name}}
}

// execTruncate handles TRUNCATE [TABLE] [ks.]table on every node, as
// Cassandra does (the coordinator asks every replica).
func (n *Node) execTruncate(p *parser, current string) *cqlResult {
	p.i++
	p.accept("table")
	ks, name, err := p.qualified(current)
	if err != nil {
		return syntaxOr(err)
	}
	if ks == "" {
		return invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
	}
	if err := n.store.TruncateTable(ks, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			if !n.keyspaceExists(ks) {
				return invalid("Keyspace %s does not exist", ks)
			}
			return invalid("unconfigured table %s", name)
		}
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	n.propagate(SchemaOp{Op: "truncate", Name: ks, TableName: name})
	return &cqlResult{msg: &message.VoidResult{}}
}

// execGrant handles GRANT <perm> [PERMISSIONS] ON KEYSPACE ks TO role.
// Like Cassandra's grammar the role may be an identifier or a 'string'
// literal; without authentication the anonymous user is refused.
func (n *Node) execGrant(p *parser, user string) *cqlResult {
	p.i++
	perm := p.next()
	if perm == nil || perm.kind != tkIdent {
		return syntaxOr(p.errAt())
	}
	valid := map[string]bool{"all": true, "create": true, "alter": true, "drop": true, "select": true, "modify": true, "authorize": true, "describe": true, "execute": true}
	if !valid[perm.text] {
		p.i--
		return syntaxOr(p.errAt())
	}
	p.accept("permissions")
	p.accept("permission")
	if err := p.expect("on"); err != nil {
		return syntaxOr(err)
	}
	var resource, ks string
	switch {
	case p.accept("all", "keyspaces"):
		resource = "<all keyspaces>"
	case p.accept("keyspace"):
		k, err := p.ident()
		if err != nil {
			return syntaxOr(err)
		}
		ks = k
		resource = "<keyspace " + k + ">"
	default:
		p.accept("table")
		k, t, err := p.qualified("")
		if err != nil {
			return syntaxOr(err)
		}
		ks = k
		resource = "<table " + k + "." + t + ">"
	}
	if err := p.expect("to"); err != nil {
		return syntaxOr(err)
	}
	rt := p.next()
	if rt == nil || (rt.kind != tkIdent && rt.kind != tkString && rt.kind != tkQuoted) {
		if rt != nil {
			p.i--
		}
		return syntaxOr(p.errAt())
	}
	p.accept(";")
	if p.peek() != nil {
		return syntaxOr(p.errAt())
	}
	if !n.cfg.Auth || user == "anonymous" {
		return &cqlResult{msg: &message.Unauthorized{ErrorMessage: "You have to be logged in and not anonymous to perform this request"}}
	}
	if ks != "" && !n.keyspaceExists(ks) {
		return invalid("Resource %s doesn't exist", resource)
	}
	n.mu.Lock()
	_, ok := n.roles[rt.text]
	n.mu.Unlock()
	if !ok {
		return invalid("Role %s doesn't exist", rt.text)
	}
	return &cqlResult{msg: &message.VoidResult{}}
}

// execCreateRole handles CREATE ROLE [IF NOT EXISTS] name [WITH PASSWORD = '..' AND LOGIN = true AND SUPERUSER = bool].
func (n *Node) execCreateRole(p *parser, user string) *cqlResult {
	p.i += 2
	ifNot := p.accept("if", "not", "exists")
	rt := p.next()
	if rt == nil || (rt.kind != tkIdent && rt.kind != tkString && rt.kind != tkQuoted) {
		return syntaxOr(p.errAt())
	}
	ri := roleInfo{}
	if p.accept("with") {
		for {
			opt, err := p.ident()
			if err != nil {
				return syntaxOr(err)
			}
			if err := p.expect("="); err != nil {
				return syntaxOr(err)
			}
			lit, err := p.literal()
			if err != nil {
				return syntaxOr(err)
			}
			switch opt {
			case "password":
				ri.Password = strings.ReplaceAll(strings.Trim(lit, "'"), "''", "'")
			case "login":
				ri.Login = lit == "true"
			case "superuser":
				ri.Superuser = lit == "true"
			default:
				return &cqlResult{msg: &message.SyntaxError{ErrorMessage: fmt.Sprintf("Invalid property '%s'", opt)}}
			}
			if !p.accept("and") {
				break
			}
		}
	}
	p.accept(";")
	if p.peek() != nil {
		return syntaxOr(p.errAt())
	}
	if !n.cfg.Auth || user == "anonymous" {
		return &cqlResult{msg: &message.Unauthorized{ErrorMessage: "You have to be logged in and not anonymous to perform this request"}}
	}
	n.mu.Lock()
	_, exists := n.roles[rt.text]
	n.mu.Unlock()
	if exists {
		if ifNot {
			return &cqlResult{msg: &message.VoidResult{}}
		}
		return invalid("%s already exists", rt.text)
	}
	op := SchemaOp{Op: "put_role", Role: rt.text, RoleInfo: &ri}
	if err := n.applySchemaOp(op); err != nil {
		return &cqlResult{msg: &message.ServerError{ErrorMessage: err.Error()}}
	}
	n.propagate(op)
	return &cqlResult{msg: &message.VoidResult{}}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// uuidLiteral reads an unquoted UUID constant (which the lexer splits into pieces).
func (p *parser) uuidLiteral() (string, error) {
	t := p.peek()
	if t == nil {
		return "", p.errAt()
	}
	m := uuidRE.FindString(p.src[t.pos:])
	if m == "" {
		return "", p.errAt()
	}
	end := t.pos + len(m)
	for p.peek() != nil && p.peek().pos < end {
		p.i++
	}
	return strings.ToLower(m), nil
}

func nowNano() int64 { return time.Now().UnixNano() }
