"""How the benchmark's results read: the Markdown report, and the summary lines the command prints."""

from __future__ import annotations

from .settings import STALL_FREE_LATENCY_MS


def _ms(figures: dict, *names: str) -> str:
    return " / ".join(f"{figures[name]:.1f}" if name in figures else "–" for name in names)


PERCENTILES = ("p50", "p95", "p99")


def machine_line(results: dict) -> str:
    m = results["machine"]
    return (
        f"{m['cpus']} CPU cores ({m['cpu_model'] or 'unknown model'}), {m['platform']}, Python {m['python']}, Node "
        f"{m['node']}, twilio (Node) {m['twilio_node']}, twilio-run {m['twilio_run']}"
    )


def summary_lines(results: dict) -> list[str]:
    """The key figures, one per line, for the terminal."""
    latency, overhead, burst, help_run = (
        results["latency"],
        results["overhead"],
        results["burst"],
        results["commands"]["help"],
    )
    lines = [
        f"Round trips: {row['outcome']}: {row['requests']} request(s) in {row['sequential_rounds']} round(s), floor "
        f"{row['floor_requests']}"
        for row in results["round_trips"]
    ]
    for mode, series in latency.items():
        lines.append(
            f"Handoff latency ({mode.replace('_', '-')}, {series['completed']} calls): p50/p95/p99 "
            f"{_ms(series['wall_ms'], *PERCENTILES)} ms; "
            f"overhead above Twilio {_ms(series['overhead_ms'], *PERCENTILES)} ms"
        )
    lines.append(
        f"In-function overhead (in-process, p50): {overhead['p50_ms']:.1f} ms, goal < {overhead['goal_ms']:g} ms: "
        + ("met" if overhead["met"] else f"missed by {overhead['missed_by_ms']:.1f} ms")
    )
    cold = results["cold_start"]
    lines.append(
        f"Cold start: {cold['load_ms']:.0f} ms to load the function ({cold['modules_loaded']} modules), "
        f"{cold['phases_ms']['firstClientUse']:.0f} ms more at the client's first use"
    )
    lines.append(
        f"Burst ({burst['conversations']}×{burst['calls_per_conversation']}): {burst['handoffs_per_second']} "
        f"handoffs/s, p50/p95/p99 {_ms(burst['latency_ms']['all'], *PERCENTILES)} ms, {burst['interactions']} "
        f"interactions for {burst['conversations']} conversations "
        + ("(exactly once)" if burst["exactly_once"] else "(EXACTLY ONCE BROKEN)")
    )
    sustained, spike = results["scale"]["sustained"], results["scale"]["spike"]
    lines.append(
        f"Sustained rate under Twilio's limits ({sustained['calls_per_handoff']} calls a handoff): "
        f"{sustained['handoffs_per_second']:g} handoffs/s "
        f"per account (bound by {sustained['binding'].replace('_', ' ')})"
    )
    lines.append(
        f"Spike ({spike['conversations']}×{spike['calls_per_conversation']} in {spike['window_seconds']:g} s, "
        f"×{spike['time_scale']:g} time): {spike['tasks']} tasks, {spike['lost']} lost, {spike['duplicated']} "
        f"duplicated, {spike['server_errors']} 5xx, {spike['sync_rate_limited']} Sync 429s absorbed, p50/p99 "
        f"{_ms(spike['latency_twilio_ms']['all'], 'p50', 'p99')} ms (Twilio time)"
    )
    handback = results["handback_burst"]
    lines.append(
        f"Hand-back burst ({handback['conversations']} tasks × 2 ending events in {handback['window_seconds']:g} s, "
        f"×{handback['time_scale']:g} time, {handback['senders']} senders): {handback['handed_back']} handed back, "
        f"{handback['lost']} lost, {handback['doubled']} doubled, {handback['server_errors']} 5xx "
        f"({handback['unfinished_server_errors']} unfinished), {handback['sync_rate_limited']} Sync and "
        f"{handback['concurrency_limited']} concurrency 429s absorbed, event p50/p99 "
        f"{_ms(handback['event_latency_twilio_ms']['all'], 'p50', 'p99')} ms (Twilio time)"
    )
    if "voice" in results:
        trips, vburst = results["voice"]["round_trips"], results["voice"]["burst"]
        lines.append(
            f"Voice action: first handoff {trips['first_handoff']['sequential_rounds']} round(s) p50 "
            f"{trips['first_handoff']['wall_ms']['p50']:.0f} ms, Twilio's retry {trips['twilio_retry']['sequential_rounds']} "
            f"p50 {trips['twilio_retry']['wall_ms']['p50']:.0f} ms; burst of {vburst['calls']} calls in "
            f"{vburst['window_seconds']:g} s (×{vburst['time_scale']:g} time): {vburst['enqueued']} enqueued, "
            f"{vburst['lost']} lost, {vburst['doubled']} doubled, {vburst['server_errors']} 5xx"
        )
    lines.append(
        f"handover --help: {help_run['wall_ms']['p50']:.0f} ms, twilio SDK imported: "
        f"{'yes' if help_run['imports_twilio'] else 'no'}"
    )
    lines += [
        f"{row['command']} ({row['run']} run): {row['reads']} read(s), {row['writes']} write(s)"
        for row in results["commands"]["account"]
    ]
    lines.append(
        f"Whole run: {results['wall_seconds']:.0f} s"
        + ("" if results["ok"] else f"; {len(results['problems'])} problem(s)")
    )
    return lines


def markdown(results: dict, chart_name: str) -> str:
    sections = [
        _heading(results, chart_name),
        _round_trips(results),
        _latency(results),
        _overhead(results),
        _cold_start(results),
        _burst(results),
        _scale(results),
        _handback_burst(results),
        _voice(results),
        _commands(results),
        _caveats(results),
    ]
    return "\n".join(sections)


def _heading(results: dict, chart_name: str) -> str:
    settings = results["settings"]
    verdict = (
        "All checks held."
        if results["ok"]
        else "**Problems:**\n" + "\n".join(f"- {problem}" for problem in results["problems"])
    )
    if settings["quick"]:
        verdict = (
            "**Quick run** (`--quick`): tiny counts for a smoke test; the figures are not representative.\n\n" + verdict
        )
    return f"""# Handover benchmark

Taken {results["taken_at"]} on {machine_line(results)}.
Reproduce with `make bench` (`handover bench --latency-ms {settings["latency_ms"]} --out bench` underneath); the whole run took {results["wall_seconds"]:.0f} s.

The handoff runs through the real local Functions runtime (twilio-run with @twilio/runtime-handler) against the
embedded Twilio emulator, which holds every Twilio request for **{settings["latency_ms"]} ms** (the emulated round trip) outside its
lock, so that concurrent requests overlap as they would on Twilio. The caller, the runtime and the emulator share
this machine, all on loopback. Raw figures: `results.json`; the chart: `{chart_name}`.

{verdict}

![Latency per scenario]({chart_name})
"""


def _round_trips(results: dict) -> str:
    rows = "\n".join(
        f"| {row['outcome']} | {row['http_status']} | {row['requests']} | {row['sequential_rounds']} | "
        f"{row['floor_requests']} / {row['floor_rounds']} | {row['floor_reason']} | {row['beyond_floor']} |"
        for row in results["round_trips"]
    )
    first = results["round_trips"][0]
    return f"""## Round trips to Twilio per outcome

Counted by the emulator. *Sequential rounds* is the longest chain of requests each sent after the previous one was
answered (from the emulator's timestamps): the round trips a caller waits for one after the other. The *floor* is the
fewest requests (and rounds) that can give the outcome with the guarantees of the function's contract (exactly one
interaction per conversation, nothing reaching Twilio for a refused call).

| Outcome | HTTP | Requests | Sequential rounds | Floor (requests / rounds) | Why the floor | Beyond the floor |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

A first handoff makes {first["requests"]} requests in {first["sequential_rounds"]} sequential rounds: the claim beside the
conversation's read, then the interaction beside the handoff's record on the conversation (its attributes, read in
the first round, written back with the record). The floor of exactly once is 2 rounds: a claim, then the delivery.
Requests of a first handoff (phone): {", ".join(f"`{operation}`" for operation in first["operations"])}.
"""


def _latency(results: dict) -> str:
    settings = results["settings"]
    rows = []
    for mode, series in results["latency"].items():
        rows.append(
            f"| {mode.replace('_', '-')} | {series['completed']} | {_ms(series['wall_ms'], *PERCENTILES)} | "
            f"{_ms(series['twilio_busy_ms'], 'p50')} | "
            f"{_ms(series['overhead_ms'], *PERCENTILES)} | {series['sequential_rounds']} × {settings['latency_ms']} = "
            f"{series['rounds_times_latency_ms']:g} | "
            f"{_ms(series['above_rounds_times_latency_ms'], *PERCENTILES)} | {_ms(series['refused_call_ms'], 'p50')} |"
        )
    parts = []
    for mode, series in results["latency"].items():
        p = series["overhead_parts_ms"]
        parts.append(
            f"| {mode.replace('_', '-')} | {_ms(p['before_first'], 'p50')} | {_ms(p['between'], 'p50')} | "
            f"{_ms(p['after_last'], 'p50')} |"
        )
    newline = "\n"
    return f"""## Latency of a handoff

First handoffs (phone identity) on distinct conversations, one call at a time, timed at the caller (a new loopback
HTTP connection per call, as a webhook makes). *Twilio busy* is the union of the emulator's busy intervals for that
call's requests; *overhead* is the call's wall time minus it, per call: everything that is not Twilio's time (the
HTTP hop into the runtime, the function's code, the twilio client, the tunnel through the emulator's proxy). *Above
rounds × latency* compares the wall time with the physical floor of the function's sequential rounds. *Refused call*:
a call answered 401 before any Twilio request, i.e. the runtime's own cost per call. All in ms.

| Mode | Calls | Wall p50 / p95 / p99 | Twilio busy p50 | Overhead p50 / p95 / p99 | Rounds × latency | Above rounds × latency p50 / p95 / p99 | Refused call p50 |
| --- | --- | --- | --- | --- | --- | --- | --- |
{newline.join(rows)}

Where each call's overhead falls (p50, ms): before its first Twilio request, between its requests (while none is
in Twilio's hands), after its last one.

| Mode | Before the first | Between | After the last |
| --- | --- | --- | --- |
{newline.join(parts)}

In forked mode (twilio-run's default) every call is a new Node process that loads the runtime, twilio and the
function before it can send its first request (see the cold start below), and loads each API's modules on its
first use between requests; deployed Functions keep warm instances, so the in-process figures are the ones that
compare with production.
"""


def _overhead(results: dict) -> str:
    o = results["overhead"]
    rounds = o["sequential_requests"]
    verdict = (
        f"**Goal met**: {o['p50_ms']:.1f} ms < {o['goal_ms']:g} ms at p50 ({o['p95_ms']:.1f} ms at p95)."
        if o["met"]
        else (
            f"**Goal missed** by {o['missed_by_ms']:.1f} ms: {o['p50_ms']:.1f} ms at p50 ({o['p95_ms']:.1f} ms at p95) "
            f"against {o['goal_ms']:g} ms."
        )
    )
    left = o["function_code_ms"]
    conclusion = (
        f"The parts measured on their own account for the whole overhead (they exceed it by {-left:.1f} ms, the noise "
        "of these measurements): the function's own code is too small for this benchmark to tell apart."
        if left <= 0
        else f"That leaves about {left:.1f} ms for the function's own code between its requests."
    )
    return f"""## In-function overhead per handoff (goal: under {o["goal_ms"]:g} ms in-process)

{verdict}

Where it goes, from the p50s of measurements made apart from the handoffs ({results["client_request"]["requests"]} sequential
requests from a fresh Node process through the emulator's proxy, as the twilio client and as bare https requests):

| Part | ms |
| --- | --- |
| The HTTP hop into twilio-run and the function's checks (a call refused with 401, before any Twilio request) | {o["runtime_hop_ms"]:.1f} |
| The tunnel of each sequential request through the emulator's proxy: TCP connection, `CONNECT`, TLS handshake, HTTP | {o["tunnel_per_request_ms"]:.1f} × {rounds} = {o["tunnel_per_request_ms"] * rounds:.1f} |
| The twilio client's own work per request (its request minus the bare one) | {o["twilio_client_per_request_ms"]:.1f} × {rounds} = {o["twilio_client_per_request_ms"] * rounds:.1f} |
| Left for the function's own code (the overhead minus the above) | {left:.1f} |

{conclusion} The time goes into the {rounds} sequential requests: the twilio client reaches the emulator through
`HTTP_PROXY` with a proxy agent that keeps no connection alive, so every request opens a new tunnel and does a full
TLS handshake with the Python proxy. Without a proxy, as deployed, the client's https agent keeps connections alive
(its default), so a handoff would open about one TLS connection per host (Sync, Flex, Conversations) rather than one
per request, and those handshakes would cross the network to Twilio.
"""


def _cold_start(results: dict) -> str:
    c = results["cold_start"]
    phases = c["phases_ms"]
    packages = "\n".join(f"| {p['name']} | {p['modules']} | {p['bytes'] / 1024:.0f} |" for p in c["largest_packages"])
    return f"""## Cold start

A fresh Node process ({c["runs"]} run(s), medians) sets up the global scope as @twilio/runtime-handler does
(`Twilio`, `Runtime.getAssets()`), then loads the function and its asset.

| Step | ms |
| --- | --- |
| `require('twilio')` | {phases["twilio"]:.1f} |
| the function module (`functions/tools/flex-handover.js`) | {phases["function"]:.1f} |
| its asset (`assets/tools/handover.private.js`) | {phases["asset"]:.1f} |
| **loaded** (the three above) | **{c["load_ms"]:.1f}** |
| from Node's start to loaded (Node's own start included) | {c["node_start_to_loaded_ms"]:.1f} |
| the twilio client's first use (its HTTP client and the Sync, Flex and Conversations modules, loaded lazily) | {phases["firstClientUse"]:.1f} |
| the whole process, spawn to exit, as the benchmark saw it | {c["process_wall_ms"]:.1f} |

Loaded: {c["modules_loaded"]} modules ({c["bytes_loaded"] / 1024:.0f} KiB of source) for the function and its asset,
{c["modules_after_first_client_use"]} after the client's first use. The largest packages:

| Package | Modules | KiB |
| --- | --- | --- |
{packages}
"""


def _burst(results: dict) -> str:
    b = results["burst"]
    latency = b["latency_ms"]
    verdict = (
        f"**Exactly once holds**: {b['interactions']} interactions for {b['conversations']} conversations, one each."
        if b["exactly_once"]
        else f"**Exactly once is broken**: {b['interactions']} interactions for {b['conversations']} conversations, "
        f"{b['conversations_with_one_interaction']} with exactly one."
    )
    answers = "; ".join(
        f"HTTP {answer.replace(' ', ' `', 1)}`: {count}" for answer, count in sorted(b["answers"].items())
    )
    return f"""## Burst

{b["conversations"]} conversations, {b["calls_per_conversation"]} calls each ({b["calls"]} calls), interleaved (every conversation's first
call, then every second, then every third) and released at the same moment from their own threads, in-process.

{verdict}

- {b["handoffs_per_second"]} handoffs/s ({b["calls_per_second"]} calls/s): {b["calls"]} calls answered in {b["seconds"]:.2f} s.
- Answers (calls): {answers}.
- Twilio's 429s absorbed (retried by the function): {_refused(b["rate_limited"])}. {b["calls"]} calls at one moment can keep more requests
  in flight than the account's 100: this burst is harsher than any arrival pattern, and shows the retries at work.
- Latency (ms, p50 / p95 / p99): all calls {_ms(latency["all"], *PERCENTILES)}; the handoffs {_ms(latency["handed_off"], *PERCENTILES)};
  the duplicates {_ms(latency["already_handed_off"], *PERCENTILES)}.
- CPU used meanwhile: {_cpu(b["runtime_cpu_seconds"])} by twilio-run (one Node process: its event loop is one core at most) and
  {b["bench_process_cpu_seconds"]:.1f} s by the benchmark's own process (the callers' threads, the emulator and its proxy, in Python),
  on {results["machine"]["cpus"]} cores shared by both. Each call opens its own loopback connection, and each of its Twilio requests its own TLS tunnel.
"""


def _scale(results: dict) -> str:
    limits, sustained, spike = results["scale"]["limits"], results["scale"]["sustained"], results["scale"]["spike"]
    bounds = sustained["bounds_per_second"]
    latency = spike["latency_twilio_ms"]
    answers = "; ".join(
        f"HTTP {answer.replace(' ', ' `', 1)}`: {count}" for answer, count in sorted(spike["answers"].items())
    )
    verdict = (
        f"**Every conversation got exactly one task**: {spike['tasks']} "
        f"tasks for {spike['conversations']} conversations."
        if not spike["lost"] and not spike["duplicated"]
        else (
            f"**Exactly once broken**: {spike['lost']} conversation(s) "
            f"without a task, {spike['duplicated']} with more than one."
        )
    )
    return f"""## At contact-center scale: Twilio's documented limits

The emulator enforces what Twilio documents: Sync allows {limits["sync_object_writes_per_second"]:g} writes and {limits["sync_object_reads_per_second"]:g} reads a
second per Map (its items included) with a {limits["sync_burst_window_seconds"]:g} s burst window (HTTP 429, error 54009), new Sync objects at
{limits["sync_creations_per_second"]:g} a second per service, and at most {limits["account_concurrency"]} requests in flight per account (HTTP 429, error 20429).

**Sustained rate per account: {sustained["handoffs_per_second"]:g} handoffs/s** with {sustained["calls_per_handoff"]} calls each (the AI
calling again while the first call works), bound by {sustained["binding"].replace("_", " ")}. The claims spread over {sustained["claim_maps"]} Sync Maps:
each handoff writes {sustained["sync_writes_per_handoff"]} claim create(s) (a refused create counted as a write) and reads its claim at most
{sustained["sync_reads_per_handoff_at_most"]} time(s), so Sync allows {bounds["sync_writes"]:g} handoffs/s by writes and {bounds["sync_reads"]:g} by reads; the
{sustained["requests_per_handoff"]} requests a handoff keeps in flight for {sustained["latency_ms"]:g} ms each allow {bounds["rest_concurrency"]:g} by the
account's concurrency (at a longer round trip, proportionally fewer). A handoff called once writes once:
{sustained["claim_maps"]} × {limits["sync_object_writes_per_second"]:g} = {sustained["claim_maps"] * limits["sync_object_writes_per_second"]:g} handoffs/s by Sync.

**The spike**: {spike["conversations"]} conversations, {spike["calls_per_conversation"]} calls each ({spike["calls"]} calls), arriving at random
moments of {spike["window_seconds"]:g} s, against those limits. Time-scaled ×{spike["time_scale"]:g} so that this machine can offer the load:
the calls arrived over {spike["window_seconds"] * spike["time_scale"]:g} s, each Twilio request took {spike["latency_ms"] * spike["time_scale"]:g} ms, and the
limits refilled {spike["time_scale"]:g}× slower (the function's own timers ran at real speed). Latencies below are divided by the scale:
Twilio time. At most {spike["workers"]} calls were in flight; a call started {_ms(spike["arrival_lateness_ms"], "p50", "p99")} ms (p50 / p99) after its moment.

{verdict}

- Tasks: {spike["tasks"]}; conversations with exactly one: {spike["conversations_with_one_task"]}; lost: {spike["lost"]}; duplicated: {spike["duplicated"]}.
- Answers: {answers}. 5xx: {spike["server_errors"]}; no answer: {spike["unanswered"]}.
- Twilio requests: {spike["twilio_requests"]} ({spike["sync_requests"]} to Sync); refused and retried: {spike["sync_rate_limited"]} by Sync's rate limit,
  {spike["concurrency_limited"]} by the account's concurrency; at most {spike["peak_requests_in_flight"]} requests in flight at once.
- Latency (ms, Twilio time, p50 / p99): all calls {_ms(latency["all"], "p50", "p99")}; the handoffs {_ms(latency["handed_off"], "p50", "p99")};
  the duplicates {_ms(latency["already_handed_off"], "p50", "p99")}. Wall time: {spike["wall_seconds"]:g} s here.
"""


def _handback_burst(results: dict) -> str:
    h = results["handback_burst"]
    latency = h["event_latency_twilio_ms"]
    answers = "; ".join(f"HTTP {status}: {count}" for status, count in sorted(h["answers"].items())) or "none"
    by_type = ", ".join(f"{count} {kind}" for kind, count in sorted(h["events_by_type"].items(), reverse=True))
    settled = h["conversations"] - h["unsettled"]
    if h["lost"] or h["doubled"] or h["unfinished_server_errors"]:
        verdict = (
            f"**The hand-back is broken**: {h['lost']} conversation(s) lost, {h['doubled']} doubled, "
            f"{h['unfinished_server_errors']} event(s) answered 5xx and never finished"
            + (f" ({', '.join(h['unfinished_examples'])})" if h["unfinished_examples"] else "")
            + "."
        )
    else:
        verdict = (
            f"**Every conversation was handed back once**: {h['handed_back']} of {settled}, the bot's webhook made "
            f"again once and the hand-back recorded, the customer told once ({h['told_once']})."
        )
    unsettled = (
        f" {h['unsettled']} conversation(s) still had an event being delivered when the wait ended: unsettled, "
        "counted neither handed back nor lost."
        if h["unsettled"]
        else ""
    )
    return f"""## Hand-back burst: every task ending at once

{h["conversations"]} conversations, each with the bot's webhook (a loopback URL), were handed off by the flex-handover tool
beforehand ({h["setup_seconds"]:g} s, without emulated latency or limits: setup, not measured), and their tasks accepted by one
Flex agent. Then every task wrapped up at a random moment of {h["window_seconds"]:g} s and was completed right after it: TaskRouter's
duplicates, two ending events per task (task.wrapup, then task.completed), each of which may hand the conversation
back. Against Twilio's documented limits, time-scaled ×{h["time_scale"]:g} as the spike: the tasks ended over
{h["window_seconds"] * h["time_scale"]:g} s here, each Twilio request took {h["latency_ms"] * h["time_scale"]:g} ms, the limits refilled {h["time_scale"]:g}× slower (the function's own timers ran at
real speed). The workspace's events reached `functions/lifecycle/task-events` signed, at the runtime's loopback https URL,
through the emulator's outbox with **{h["senders"]} concurrent senders** (Twilio sends callbacks concurrently: the two events of a
task may be handled at the same moment, and arrive in either order). A wrap-up came {_ms(h["wrapup_lateness_ms"], "p50", "p99")} ms
(p50 / p99) after its moment.

How it is taken: once every event was answered (or {h["timeout_seconds"]:g} s after the last task's end), each
conversation is read from the emulator. *Handed back*: the hand-back of its task recorded on it (`handedBack`, the bot
restored) and exactly one bot webhook. *Lost*: no bot webhook, or no hand-back recorded. *Doubled*: two bot webhooks or
more, or the hand-back message told twice or more. An event answered 5xx is *unfinished* unless an event of the same
task was answered 2xx after it (its answer came later): a retryable 503 followed by a successful event is no loss,
and whether that event made the hand-back is the end state's to say. The run fails on a lost, doubled or unfinished
one, never on a latency.{unsettled}

{verdict}

- Events: {h["events"]} ({by_type}). Answers: {answers}. 5xx: {h["server_errors"]}, unfinished: {h["unfinished_server_errors"]}; no answer: {h["unanswered"]}.
- Conversations: {h["handed_back"]} handed back; lost: {h["lost"]}; doubled: {h["doubled"]}; told the message once: {h["told_once"]}; unsettled: {h["unsettled"]}.
- Twilio requests: {h["twilio_requests"]} ({h["sync_requests"]} to Sync); refused and retried: {h["sync_rate_limited"]} by Sync's rate limit,
  {h["concurrency_limited"]} by the account's concurrency; at most {h["peak_requests_in_flight"]} requests in flight at once.
- Event latency (ms, Twilio time, from TaskRouter queueing the event to the function's answer, a free sender's wait
  included; p50 / p99): all {_ms(latency["all"], "p50", "p99")}; task.wrapup {_ms(latency["task.wrapup"], "p50", "p99")};
  task.completed {_ms(latency["task.completed"], "p50", "p99")}. Wall time: {h["wall_seconds"]:g} s here.
"""


def _voice(results: dict) -> str:
    if "voice" not in results:
        return ""
    trips, b = results["voice"]["round_trips"], results["voice"]["burst"]
    rows = "\n".join(
        f"| {key.replace('_', ' ')} | {', '.join(map(str, row['statuses']))} | {row['requests']} | "
        f"{row['sequential_rounds']} | {_ms(row['wall_ms'], 'p50', 'p95')} | {', '.join(row['operations']) or 'none'} |"
        for key, row in trips.items()
    )
    return f"""## Voice: the <Connect action> of a ConversationRelay voice AI

Twilio's action request, signed, POSTed to `functions/voice/connect-action` one at a time ({trips["first_handoff"]["calls"]} per outcome,
{results["settings"]["latency_ms"]} ms per Twilio round trip). The floor: one round for a first handoff (the session's Sync claim), two
for Twilio's retry of it (the claim refused, then read for the first request's moment, so that the retry answers
the same task), none for a session that ended without a handoff.

| Outcome | HTTP | Requests | Rounds | Wall ms (p50 / p95) | Operations |
| --- | --- | --- | --- | --- | --- |
{rows}

Burst: {b["calls"]} callers talking to the voice AI (set up through `/voice/incoming-call` in {b["setup_seconds"]:g} s, not measured), their
sessions ended with handoffData at random moments of {b["window_seconds"]:g} s, time-scaled ×{b["time_scale"]:g} at Twilio's limits, every
{b["retried_every"]}th action requested twice (Twilio's retry of an answer it did not get): **{b["enqueued"]} enqueued once,
{b["lost"]} lost, {b["doubled"]} doubled, {b["server_errors"]} answered 5xx**; {b["action_requests"]} action requests ({b["action_answers"]}), {b["twilio_requests"]}
Twilio requests, {b["sync_rate_limited"]} Sync 429s absorbed, at most {b["peak_requests_in_flight"]} in flight; {b["wall_seconds"]:g} s here.
"""


def _refused(by_code: dict) -> str:
    words = {"20429": "by the account's concurrency (20429)", "54009": "by Sync's rate limit (54009)"}
    return "; ".join(f"{count} {words.get(code, code)}" for code, count in sorted(by_code.items())) or "none"


def _cpu(seconds: float | None) -> str:
    return "(not measurable here)" if seconds is None else f"{seconds:.1f} s"


def _commands(results: dict) -> str:
    h = results["commands"]["help"]
    heavy = ", ".join(h["heavy_packages_imported"]) or "none"
    rows = "\n".join(
        f"| `{row['command']}` | {row['run']} | {row['requests']} | {row['reads']} | {row['writes']} | "
        f"{row['wall_ms']:.0f} |"
        for row in results["commands"]["account"]
    )
    return f"""## The Python commands

`handover --help` in a fresh process ({h["runs"]} run(s)): {h["wall_ms"]["p50"]:.0f} ms at p50. It imported the
twilio SDK: **{"yes" if h["imports_twilio"] else "no"}**; of the heavy packages (the twilio SDK, requests, jinja2, matplotlib, the
OpenAPI validator, trustme): {heavy} ({h["top_level_packages_imported"]} top-level packages in all).

`handover env set` and `handover tool register` on a new deployment, each run twice in a fresh process against the
emulator (wall time includes the emulated latency of each request):

| Command | Run | Requests | Reads | Writes | Wall ms |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def _caveats(results: dict) -> str:
    latency_ms = results["settings"]["latency_ms"]
    series = results["latency"]["in_process"]
    own_ms = (series["twilio_busy_ms"].get("p50", 0.0) - series["rounds_times_latency_ms"]) / max(
        1, series["sequential_rounds"]
    )
    stall = (
        f"\n- **This run's latency ({latency_ms} ms) is below {STALL_FREE_LATENCY_MS} ms**: the emulator's proxy "
        "writes each answer in two TCP segments without TCP_NODELAY, so the client's delayed ACK adds up to about 40 "
        "ms to every request; the overhead figures above include that stall."
        if latency_ms < STALL_FREE_LATENCY_MS
        else ""
    )
    return f"""## Caveats

- One machine runs the caller, twilio-run and the emulator: they compete for its {results["machine"]["cpus"]} cores, the burst most.
- The emulator's own work (checking each request and answer against Twilio's OpenAPI description) takes about
  {own_ms:.1f} ms per round beyond the emulated latency; it is inside its busy intervals, so it counts as Twilio's time.
  The tunnel through its proxy does not: it is part of the overhead.
- Below {STALL_FREE_LATENCY_MS} ms of emulated latency, the emulator's proxy adds a TCP delayed-ACK stall (up to ~40 ms) to each request,
  which a latency of {STALL_FREE_LATENCY_MS} ms or more hides.{stall}
"""
