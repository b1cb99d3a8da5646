#!/bin/bash
# hotsnap baseline: TheHive 5 hot restore of a cluster, the way StrangeBee's
# runbook documents it (reference/thehive-runbook.md §2, steps 1 to 4):
#
#   1. stop TheHive on every node and check that it is inactive;
#   2. from the newest archives under /mnt/backup, at the same time
#        [ES]   DELETE the index thehive_global, then
#               POST _snapshot/<repo>/<snapshot>/_restore?wait_for_completion=true
#               (the snapshot name is that of the newest elasticsearch_*.info);
#        [CASS] untar the newest cassandra_*.tar, drop the keyspace, wait 5 s,
#               recreate it with `cqlsh -f create_keyspace_<ks>.cql`, then
#               `sstableloader -d <node>` every table folder, and remove the
#               extracted folder;
#   3. untar the newest files_*.tar, empty /opt/thp/thehive/files and copy
#      the backup in (cp -r, as documented: ownership is not restored);
#   4. start TheHive on every node and check that it is active.
#
# It is written from the runbook's description, not copied from the
# published script, and is the yardstick hotsnap is measured against, so it
# keeps the procedure's effective behaviour:
#   - the keyspace is ALWAYS dropped and recreated: the published script
#     compares the backup's schema with `DESCRIBE ... || true > file`, a
#     redirect that never captures the DESCRIBE output, so the comparison
#     never matches;
#   - only thehive_global is restored (the audit index was never saved);
#   - Elasticsearch is addressed at one URL, the index is deleted (not closed).
# Differences: the GRANT the published script leaves commented out (with the
# user where the keyspace belongs) is run in its documented install form
# (GRANT ALL PERMISSIONS ON KEYSPACE <ks> TO <role>) when CQL_AUTH is set; a
# failed _restore answer fails the run instead of being ignored; steps 1 and
# 4, which the runbook gives as commands to type on each node, are run here
# over ssh ($NODE_SSH) for every host in $THEHIVE_NODES.
#
# Settings: the variables below, overridable from the environment or from
# the file $THEHIVE_BASELINE_CONF (default: thehive-baseline.conf next to
# this script). Run it as root on a node running both Cassandra and
# Elasticsearch.
set -euo pipefail

conf=${THEHIVE_BASELINE_CONF:-$(dirname "$0")/thehive-baseline.conf}
if [ -r "$conf" ]; then
	# shellcheck disable=SC1090
	. "$conf"
fi

KEYSPACE=${KEYSPACE:-thehive}
CQL_HOST=${CQL_HOST:-127.0.0.1}          # any Cassandra node ("CASSANDRA_CONNECTION")
CQL_AUTH=${CQL_AUTH:-}                   # e.g. "-u admin -p <password>"
THEHIVE_ROLE=${THEHIVE_ROLE:-thehive}    # role granted the keyspace when CQL_AUTH is set
ES_URL=${ES_URL:-http://127.0.0.1:9200}
ES_AUTH=${ES_AUTH:-}                     # user:password for curl -u
ES_REPO=${ES_REPO:-thehive_repository}
ES_INDEX=${ES_INDEX:-thehive_global}
FILES_DIR=${FILES_DIR:-/opt/thp/thehive/files}
BACKUP_ROOT=${BACKUP_ROOT:-/mnt/backup}
THEHIVE_NODES=${THEHIVE_NODES:-localhost} # hosts running TheHive
NODE_SSH=${NODE_SSH:-ssh}                # how to reach them; "localhost" runs locally

on_node() { # on_node HOST COMMAND...
	local host=$1
	shift
	if [ "$host" = localhost ]; then
		"$@"
	else
		# shellcheck disable=SC2086 # NODE_SSH holds a command line
		$NODE_SSH "$host" sudo "$@"
	fi
}

es() { # es METHOD PATH
	local args=(-s -L -X "$1")
	if [ -n "$ES_AUTH" ]; then args+=(-u "$ES_AUTH"); fi
	curl "${args[@]}" "$ES_URL$2"
}

newest() { # newest GLOB: the last match, or nothing
	local matches=()
	# shellcheck disable=SC2206 # the glob is meant to expand
	matches=($1)
	if [ -e "${matches[-1]}" ]; then echo "${matches[-1]}"; fi
}

# 1. Stop TheHive everywhere.
for host in $THEHIVE_NODES; do
	echo "Stopping TheHive on $host"
	on_node "$host" systemctl stop thehive
	state=$(on_node "$host" systemctl is-active thehive || true)
	if [ "$state" != inactive ] && [ "$state" != failed ]; then
		echo "=== ✗ ERROR - TheHive on $host is still $state ==="
		exit 1
	fi
done

cass_root=$BACKUP_ROOT/cassandra
es_root=$BACKUP_ROOT/elasticsearch
files_root=$BACKUP_ROOT/storage
cass_tar=$(newest "$cass_root/cassandra_????????_??h??m??s.tar")
es_info=$(newest "$es_root/elasticsearch_????????_??h??m??s.info")
files_tar=$(newest "$files_root/files_????????_??h??m??s.tar")
for f in "$cass_tar" "$es_info" "$files_tar"; do
	if [ -z "$f" ]; then
		echo "=== ✗ ERROR - no complete backup under $BACKUP_ROOT (cassandra: ${cass_tar:-none}, elasticsearch: ${es_info:-none}, files: ${files_tar:-none}) ==="
		exit 1
	fi
done
cass_name=$(basename "$cass_tar" .tar)
cass_dir=$cass_root/$cass_name
es_name=$(basename "$es_info" .info)
files_name=$(basename "$files_tar" .tar)
echo "Latest Elasticsearch backup archive found is $es_info"
echo "Latest Cassandra backup archive found is $cass_tar"

# 2a. Elasticsearch, in the background.
(
	echo "Trying to delete the existing Elasticsearch index"
	if [ "$(es DELETE "/$ES_INDEX/" | jq '.acknowledged == true')" = true ]; then
		echo "Existing $ES_INDEX index deleted"
	else
		echo "Couldn't delete $ES_INDEX index, maybe it was already deleted"
	fi
	echo "Restoring $es_name snapshot"
	answer=$(es POST "/_snapshot/$ES_REPO/$es_name/_restore?wait_for_completion=true")
	if [ "$(jq 'has("error")' <<<"$answer")" = true ]; then
		echo "[ES] ✗ restore of $es_name failed: $answer"
		exit 1
	fi
	echo "Elasticsearch data restoration done!"
) &
es_pid=$!

# 2b. Cassandra, in the background.
(
	tar xf "$cass_tar" -C "$cass_root"
	echo "Latest Cassandra backup archive extracted in $cass_dir"
	echo "Dropping keyspace $KEYSPACE (the documented comparison never matches)"
	# shellcheck disable=SC2086 # CQL_AUTH holds several words on purpose
	cqlsh "$CQL_HOST" $CQL_AUTH --request-timeout=120 -e "DROP KEYSPACE IF EXISTS $KEYSPACE;"
	sleep 5
	echo "Creating $KEYSPACE keyspace using the definition from the backup"
	# shellcheck disable=SC2086
	cqlsh "$CQL_HOST" $CQL_AUTH --request-timeout=120 -f "$cass_dir/create_keyspace_$KEYSPACE.cql"
	if [ -n "$CQL_AUTH" ]; then
		# shellcheck disable=SC2086
		cqlsh "$CQL_HOST" $CQL_AUTH --request-timeout=120 -e "GRANT ALL PERMISSIONS ON KEYSPACE $KEYSPACE TO $THEHIVE_ROLE;"
	fi
	loader_auth=${CQL_AUTH/-p /-pw }
	for table_dir in "$cass_dir/$KEYSPACE"/*/; do
		table=$(basename "$table_dir")
		echo "Importing ${table%%-*} table and related data"
		# shellcheck disable=SC2086
		sstableloader -d "$CQL_HOST" $loader_auth "${table_dir%/}" >>"$cass_root/sstableloader.log"
	done
	echo "Cassandra data restoration done!"
	rm -rf "$cass_dir"
) &
cass_pid=$!

es_rc=0
cass_rc=0
wait "$es_pid" || es_rc=$?
wait "$cass_pid" || cass_rc=$?
if [ "$es_rc" -ne 0 ] || [ "$cass_rc" -ne 0 ]; then
	echo "=== ✗ ERROR - ES: exit $es_rc, Cassandra: exit $cass_rc ==="
	exit 1
fi

# 3. Attachments (runbook step 3, local/NFS storage).
echo "Latest attachment files backup archive found is $files_tar"
tar xf "$files_tar" -C "$files_root"
rm -rf "${FILES_DIR:?}"/*
cp -r "$files_root/$files_name"/* "$FILES_DIR/"
rm -rf "${files_root:?}/$files_name"
echo "attachment files data restoration done!"

# 4. Start TheHive everywhere.
for host in $THEHIVE_NODES; do
	echo "Starting TheHive on $host"
	on_node "$host" systemctl start thehive
	state=$(on_node "$host" systemctl is-active thehive || true)
	if [ "$state" != active ]; then
		echo "=== ✗ ERROR - TheHive on $host is $state after start ==="
		exit 1
	fi
done

echo "=== ✓ Successful full restore ==="
