// The 3cx-gateway admin console: plain browser JavaScript, no build step, no third-party code.
// Everything from the server is put on the page with textContent (never as HTML).
'use strict'

const REFRESH_MS = 5000
const state = { csrf: null, scope: null, calls: [], queues: [], received: false, skew: 0, events: null, timer: null, ticker: null, directory: null, directoryAt: 0 }
const DIRECTORY_MS = 30000

const $ = (id) => document.getElementById(id)

/** A DOM element with text and attributes. */
function el (tag, text, attrs) {
  const e = document.createElement(tag)
  if (text !== undefined && text !== null) e.textContent = String(text)
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v)
  return e
}

function row (cells) {
  const tr = el('tr')
  for (const c of cells) {
    const td = el('td')
    if (c instanceof Node) td.append(c)
    else if (c !== null && typeof c === 'object') { td.textContent = c.text; if (c.cls) td.className = c.cls }
    else td.textContent = c === null || c === undefined ? '' : String(c)
    tr.append(td)
  }
  return tr
}

async function api (path, method = 'GET', body) {
  const headers = {}
  if (method !== 'GET') headers['x-csrf-token'] = state.csrf || ''
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' })
  const data = await res.json().catch(() => null)
  if (res.status === 401 && path !== '/console/api/login') showLogin()
  return { status: res.status, data }
}

function errorText (r) {
  return (r.data && r.data.error && r.data.error.message) || `HTTP ${r.status}`
}

function showLogin (message) {
  stop()
  $('app').hidden = true
  $('who').hidden = true
  $('logout').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message || ''
  $('login-key').focus()
}

function stop () {
  state.directory = null
  state.calls = []
  state.received = false
  if (state.events) state.events.close()
  if (state.timer) clearInterval(state.timer)
  if (state.ticker) clearInterval(state.ticker)
  state.events = state.timer = state.ticker = null
}

function start (session) {
  state.csrf = session.csrfToken
  state.scope = session.scope
  $('login').hidden = true
  $('app').hidden = false
  $('who').hidden = false
  $('who').textContent = `${session.keyId} (${session.scope})`
  $('logout').hidden = false
  document.body.dataset.scope = session.scope
  if (state.events === null) connectEvents()
  renderCalls()
  refresh()
  state.timer = setInterval(refresh, REFRESH_MS)
  state.ticker = setInterval(renderCalls, 1000)
}

// --- calls, live over SSE

function connectEvents () {
  const es = new EventSource('/console/events')
  state.events = es
  es.addEventListener('calls', (e) => {
    const msg = JSON.parse(e.data)
    state.received = true
    state.skew = msg.now - Date.now()
    state.calls = msg.calls
    state.queues = msg.queues
    $('live').textContent = 'live'
    $('live').className = 'live on'
    renderCalls()
  })
  es.onerror = () => {
    $('live').textContent = 'reconnecting…'
    $('live').className = 'live'
  }
}

function duration (ms) {
  const s = Math.max(0, Math.floor(ms / 1000))
  const m = Math.floor(s / 60)
  return `${m}:${String(s % 60).padStart(2, '0')}`
}

function renderCalls () {
  // When live data is first on the visible page (bench/figures/console-load.ts measures it).
  if (state.received && !$('app').hidden && performance.getEntriesByName('first-live-data').length === 0) performance.mark('first-live-data')
  const now = Date.now() + state.skew
  const body = $('calls').tBodies[0]
  body.replaceChildren(...state.calls.map((c) => {
    const tr = row([
      c.callerName && c.callerName !== c.caller ? `${c.caller} (${c.callerName})` : c.caller,
      c.callee,
      { text: c.stateText, cls: `state state-${c.state}` },
      c.via,
      c.direction,
      duration(now - (c.answeredAt ?? c.startedAt)),
      c.legacyId
    ])
    tr.dataset.callid = c.callid
    return tr
  }))
  $('calls-count').textContent = state.calls.length
  $('calls-empty').hidden = state.calls.length > 0
  renderDirectory(now)
}

// --- extensions and queues: the directory (cached by the gateway) joined with the live calls

/** An extension's live state from its legs in the calls in progress. */
function extensionState (number) {
  const legs = state.calls.flatMap((c) => c.legs.filter((l) => l.dn === number && l.dnType === 'extension'))
  if (legs.some((l) => l.status === 'Connected')) return 'talking'
  if (legs.some((l) => l.status === 'Ringing')) return 'ringing'
  if (legs.some((l) => l.status === 'Dialing')) return 'dialing'
  return 'idle'
}

/** An agent of a queue: its number, live state, or that it is logged out (of all its queues: V20 has one login per extension). */
function agentText (a) {
  if (!a.registered) return `${a.number} not registered`
  if (a.queueStatus !== 'LoggedIn') return `${a.number} logged out`
  return `${a.number} ${extensionState(a.number)}`
}

function renderDirectory (now) {
  const d = state.directory
  if (d === null) return
  const byNumber = new Map(d.extensions.map((e) => [e.number, e]))
  $('extensions').tBodies[0].replaceChildren(...d.extensions.map((e) => {
    const live = extensionState(e.number)
    const tr = row([e.number, { text: live, cls: `state state-${live}` }, e.profile, e.registered ? 'registered' : 'not registered', e.queueStatus === 'LoggedIn' ? 'logged in' : 'logged out'])
    tr.dataset.ext = e.number
    return tr
  }))
  const waits = new Map(state.queues.map((w) => [w.number, w]))
  $('queues').tBodies[0].replaceChildren(...d.queues.map((q) => {
    const agents = q.agents.map((a) => byNumber.get(a) || { number: a, registered: false, queueStatus: 'LoggedOut' })
    const w = waits.get(q.number)
    const loggedIn = agents.filter((a) => a.queueStatus === 'LoggedIn').length
    const tr = row([q.number, q.name, w ? w.waiting : 0, w ? duration(now - w.longestSince) : '', `${loggedIn} of ${agents.length}`, { text: agents.map(agentText).join(', '), cls: 'agents' }])
    tr.dataset.queue = q.number
    return tr
  }))
}

async function loadDirectory () {
  if (Date.now() - state.directoryAt < DIRECTORY_MS && state.directory !== null) return
  const r = await api('/console/api/directory')
  if (r.status !== 200) return
  state.directory = r.data
  state.directoryAt = Date.now()
  renderDirectory(Date.now() + state.skew)
}

// --- webhooks, recordings, system: refreshed every few seconds (from the gateway, never the PBX)

async function refresh () {
  await Promise.all([loadWebhooks(), loadRecordings(), loadSystem(), loadDirectory()])
}

async function loadWebhooks () {
  const q = new URLSearchParams({ limit: '50' })
  if ($('filter-status').value) q.set('status', $('filter-status').value)
  if ($('filter-target').value) q.set('target', $('filter-target').value)
  const r = await api(`/console/api/webhooks/deliveries?${q}`)
  if (r.status === 404) { $('webhooks-section').hidden = true; return }
  if (r.status !== 200) return
  renderTargets(r.data.targets)
  renderDeliveries(r.data.deliveries)
}

function renderTargets (targets) {
  const select = $('filter-target')
  const chosen = select.value
  select.replaceChildren(el('option', 'any', { value: '' }), ...targets.map((t) => el('option', t.name)))
  select.value = chosen
  $('targets').tBodies[0].replaceChildren(...targets.map((t) => {
    const test = el('button', 'Send test event', { type: 'button', class: 'control', 'data-target': t.name })
    test.disabled = state.scope !== 'control'
    test.addEventListener('click', () => sendTest(t.name))
    const health = t.state === 'disabled' ? `disabled${t.disabledReason ? ': ' + t.disabledReason : ''}` : t.state
    const tr = row([t.name, { text: health, cls: `health health-${t.state}` }, t.lastSuccessAt ? new Date(t.lastSuccessAt).toLocaleTimeString() : 'none yet', t.consecutiveFailures, t.queued, { text: t.retrying, cls: t.retrying > 0 ? 'status-retrying' : '' }, t.delivered, t.lastError, test])
    tr.dataset.target = t.name
    return tr
  }))
}

function renderDeliveries (deliveries) {
  $('deliveries').tBodies[0].replaceChildren(...deliveries.map((d) => {
    const again = el('button', 'Redeliver', { type: 'button', class: 'control' })
    again.disabled = state.scope !== 'control'
    again.addEventListener('click', () => redeliver(d.id))
    const last = d.lastAttempt
    const answer = last === null ? '' : last.statusCode !== null ? `HTTP ${last.statusCode}` : (last.error || '')
    return row([d.id, d.event, d.legacyId, d.target, { text: d.status, cls: `status status-${d.status}` }, d.attempts, answer, { text: last && last.excerpt ? last.excerpt : '', cls: 'excerpt' }, again])
  }))
}

async function sendTest (name) {
  $('test-result').textContent = `Sending a test event to ${name}…`
  const r = await api(`/console/api/webhooks/targets/${encodeURIComponent(name)}/test`, 'POST')
  if (r.status !== 200) { $('test-result').textContent = errorText(r); return }
  const d = r.data
  $('test-result').textContent = d.result
    ? `Test event to ${name}: HTTP ${d.statusCode} in ${d.durationMs} ms`
    : `Test event to ${name} failed: ${d.error} (${d.durationMs} ms)`
  $('test-result').className = d.result ? 'note ok' : 'note bad'
}

async function redeliver (id) {
  const r = await api(`/console/api/webhooks/deliveries/${id}/redeliver`, 'POST')
  $('test-result').textContent = r.status === 200 ? `Delivery ${id} is sent again.` : errorText(r)
  await loadWebhooks()
}

async function loadRecordings () {
  const r = await api('/console/api/recordings?limit=10')
  if (r.status !== 200) return
  const list = $('recordings')
  if (!r.data.enabled) { list.replaceChildren(el('li', 'Recordings are off (RECORDINGS_SOURCE=off).')); return }
  if (r.data.recordings.length === 0) { list.replaceChildren(el('li', 'No recordings converted yet.')); return }
  // Keep players that exist (a refresh must not stop one that is playing).
  const have = new Map([...list.querySelectorAll('li[data-file]')].map((li) => [li.dataset.file, li]))
  list.replaceChildren(...r.data.recordings.map((rec) => {
    const known = have.get(rec.fileName)
    if (known) return known
    const li = el('li', null, { 'data-file': rec.fileName })
    li.append(el('span', new Date(rec.recordedAt).toLocaleString()), el('span', `ext ${rec.dn}`), el('a', rec.fileName, { href: rec.url }))
    li.append(el('audio', null, { controls: '', preload: 'none', src: rec.url }))
    return li
  }))
}

function bytes (n) {
  if (n === null || n === undefined) return '?'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

async function loadSystem () {
  const r = await api('/console/api/system')
  if (r.status !== 200) return
  const s = r.data
  const items = [
    ['Gateway', `${s.version} (${s.mode === 'demo' ? 'demo mode' : 'PBX mode'}), up ${duration(s.uptimeS * 1000)}`],
    ['Ready', s.ready ? 'yes' : 'NO', s.ready ? 'ok' : 'bad'],
    ['PBX version', s.pbxVersion || 'unknown']
  ]
  for (const [name, c] of Object.entries(s.checks)) {
    items.push([name, c.ok ? (c.degraded ? `degraded: ${c.detail}` : 'ok') : `not ready: ${c.detail}`, c.ok && !c.degraded ? 'ok' : 'bad'])
  }
  if (s.stream && s.stream.role !== 'single') {
    // Replicas on PostgreSQL: which one holds this PBX's stream, and whether it is this one.
    const held = s.stream.holder === null ? 'no replica yet' : `${s.stream.holder}${s.stream.holderSince ? ` since ${new Date(s.stream.holderSince).toLocaleTimeString()}` : ''}`
    items.push(['Event stream', `held by ${held}; this replica (${s.stream.replica}) is ${s.stream.role === 'holder' ? 'the holder' : 'a standby'}`, s.stream.holder === null ? 'bad' : ''])
  }
  items.push(['Calls in progress', s.callsInProgress], ['Outbox depth', s.outboxDepth === null ? 'unknown' : s.outboxDepth])
  for (const d of s.disks) items.push([`Free in ${d.name}`, `${d.error ? d.error : `${bytes(d.freeBytes)} of ${bytes(d.totalBytes)}`} (${d.path})`, d.error ? 'bad' : ''])
  $('system').replaceChildren(...items.flatMap(([k, v, cls]) => [el('dt', k), el('dd', v, cls ? { class: cls } : {})]))
}

// --- log in / out

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const input = $('login-key')
  const key = input.value
  input.value = ''
  const r = await api('/console/api/login', 'POST', { key })
  if (r.status === 200) start(r.data)
  else showLogin(errorText(r))
})

$('logout').addEventListener('click', async () => {
  await api('/console/api/logout', 'POST')
  showLogin()
})

$('delivery-filter').addEventListener('submit', (e) => { e.preventDefault(); loadWebhooks() })

// The live feed and the session check at once: a logged-in admin sees calls one round trip sooner
// (without a session the feed answers 401 and showLogin closes it).
connectEvents()
api('/console/api/session').then((r) => { if (r.status === 200) start(r.data) })
