// Package eclecticiq holds the practice lab's EclecticIQ Intelligence
// Center stand-ins and the platform they make on node1: what `hotsnap lab
// up --platform eclecticiq` runs, seeds and writes, shaped after seed 003
// (EclecticIQ's backup guidelines) and the samples in
// reference/real-outputs/eclecticiq.
//
// Real parts run where they exist: PostgreSQL 15 and Redis 7 from Debian,
// started and stopped through their units (postgresql-15, redis) under
// the lab's systemctl shim (package lab/thehive), as users postgres and
// redis. Go stand-ins, reached through the multi-call hotsnap binary,
// play the rest:
//
//   - CeleryMain ("celery") is a Celery worker that consumes its queues as
//     kombu's redis transport does (LPUSH/BRPOP over the priority lists
//     "<queue>\x06\x16<3|6|9>", delivered messages in the unacked hash and
//     unacked_index until their task ran, restore of the rest when it is
//     stopped, restore of stale ones at start) and Celery beat (the
//     scheduler: periodic tasks, a PID file);
//   - PlatformMain ("eiq-platform") is the platform command seed 003 runs:
//     `search upgrade` and `search reindex --index=X` rebuild the
//     Elasticsearch indices from PostgreSQL through the ES stand-in's bulk
//     API; `standin ROLE` runs the web, ingestion, searchindex, opentaxii
//     and secrets-setter units' processes (web keeps sending tasks,
//     ingestion and searchindex move the pipeline lists
//     queue:{ingestion,graph,search}:inbound).
//
// Units describes the systemd units (the services and workers units group
// their parts with Wants= and PartOf=, so `systemctl stop
// eclecticiq-platform-backend-services` stops every producer), Files the
// configuration files of seed 003's list with owners, modes and secrets,
// SeedSQL the platform database and SeedQueues the queued work. The knob
// files of KnobDir switch on the faults hotsnap's tests need (a worker that
// will not stop, a queue that never drains) and set the pace.
package eclecticiq
