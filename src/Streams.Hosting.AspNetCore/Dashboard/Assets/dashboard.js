// Streams.Hosting dashboard: polls the status document and steers consumers through the operations endpoints
// mapped under the dashboard (data-api). Plain JavaScript, no framework, no external resources. The rows it renders
// match the server-rendered ones (DashboardPage.cs): same classes, same data-key.
(function () {
  'use strict';
  var body = document.body;
  var api = body.getAttribute('data-api');
  var refreshMs = parseInt(body.getAttribute('data-refresh-ms'), 10) || 2000;
  var SPARK_W = 120, SPARK_H = 24, SVG = 'http://www.w3.org/2000/svg';
  var message = document.getElementById('message');
  var live = document.getElementById('live');
  var timer = null;

  function text(v) { return v === null || v === undefined ? '' : String(v); }

  function cell(row, cls) { return row.querySelector('td.' + cls); }

  function setText(row, cls, value) {
    var td = cell(row, cls);
    var t = text(value);
    if (td.textContent !== t) { td.textContent = t; }
  }

  function key(c) { return [c.handler, c.stream, text(c.partition), text(c.name)].join('|'); }

  // TimeSpan as System.Text.Json writes it: [-][d.]hh:mm:ss[.fffffff]
  function milliseconds(span) {
    if (!span) { return null; }
    var m = /^(-)?(?:(\d+)\.)?(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(span);
    if (!m) { return null; }
    var ms = ((+(m[2] || 0) * 24 + +m[3]) * 60 + +m[4]) * 60000 + +m[5] * 1000 + (m[6] ? +('0.' + m[6]) * 1000 : 0);
    return m[1] ? -ms : ms;
  }

  function formatMs(span) {
    var ms = milliseconds(span);
    return ms === null ? '-' : ms.toFixed(1) + ' ms';
  }

  function sparkline(history) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', SPARK_W);
    svg.setAttribute('height', SPARK_H);
    svg.setAttribute('viewBox', '0 0 ' + SPARK_W + ' ' + SPARK_H);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'lag history' + (history.length === 0 ? ': no measurement yet' : ': ' + history.map(function (s) { return s.lag; }).join(' ')));
    var base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', 0); base.setAttribute('y1', SPARK_H - 1); base.setAttribute('x2', SPARK_W); base.setAttribute('y2', SPARK_H - 1);
    svg.appendChild(base);
    if (history.length > 0) {
      var max = Math.max(1, Math.max.apply(null, history.map(function (s) { return s.lag; })));
      var step = history.length === 1 ? 0 : SPARK_W / (history.length - 1);
      var points = history.map(function (s, i) {
        var x = history.length === 1 ? SPARK_W : i * step;
        var y = (SPARK_H - 1) - (s.lag / max * (SPARK_H - 2));
        return (Math.round(x * 10) / 10) + ',' + (Math.round(y * 10) / 10);
      }).join(' ');
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points);
      svg.appendChild(line);
    }
    return svg;
  }

  function newConsumerRow(c) {
    var row = document.createElement('tr');
    row.setAttribute('data-key', key(c));
    ['c-name', 'c-stream', 'c-partition', 'c-state', 'c-processed num', 'c-stored num', 'c-lag num', 'c-spark', 'c-rate num', 'c-handled num', 'c-failed num', 'c-actions']
      .forEach(function (cls) { var td = document.createElement('td'); td.className = cls; row.appendChild(td); });
    if (c.name !== null && c.name !== undefined) {
      row.setAttribute('data-consumer', c.name);
      var actions = cell(row, 'c-actions');
      [['pause', 'Pause'], ['resume', 'Resume']].forEach(function (a) {
        var b = document.createElement('button');
        b.type = 'button'; b.className = a[0]; b.setAttribute('data-action', a[0]); b.textContent = a[1];
        actions.appendChild(b); actions.appendChild(document.createTextNode(' '));
      });
      var input = document.createElement('input');
      input.className = 'rewind-to'; input.setAttribute('aria-label', 'Rewind target'); input.placeholder = 'first | last | offset:N | timestamp:ISO';
      actions.appendChild(input); actions.appendChild(document.createTextNode(' '));
      var rewind = document.createElement('button');
      rewind.type = 'button'; rewind.className = 'rewind'; rewind.setAttribute('data-action', 'rewind'); rewind.textContent = 'Rewind';
      actions.appendChild(rewind);
    }
    return row;
  }

  function updateConsumerRow(row, c) {
    setText(row, 'c-name', c.name === null || c.name === undefined ? '(anonymous)' : c.name);
    setText(row, 'c-stream', c.stream);
    setText(row, 'c-partition', c.partition);
    var state = cell(row, 'c-state');
    var span = document.createElement('span');
    span.className = 'state state-' + c.state;
    span.textContent = c.state;
    state.replaceChildren(span, document.createTextNode((c.stateReason && c.stateReason.toLowerCase() !== c.state.toLowerCase() ? ' (' + c.stateReason + ')' : '') + (c.isActive ? '' : ' standby')));
    setText(row, 'c-processed', c.lastProcessedOffset);
    setText(row, 'c-stored', c.lastStoredOffset);
    setText(row, 'c-lag', c.lag);
    cell(row, 'c-spark').replaceChildren(sparkline(c.lagHistory || []));
    setText(row, 'c-rate', c.rate === null || c.rate === undefined ? '' : (Math.round(c.rate * 10) / 10) + '/s');
    setText(row, 'c-handled', c.handled);
    setText(row, 'c-failed', c.failed);
  }

  function noneRow(colspan, label) {
    var row = document.createElement('tr');
    row.className = 'none';
    var td = document.createElement('td');
    td.colSpan = colspan; td.textContent = label;
    row.appendChild(td);
    return row;
  }

  // Rows are matched by data-key and updated in place, so a rewind target being typed is kept.
  function renderRows(tbody, items, keyOf, create, update, empty) {
    var existing = {};
    Array.prototype.forEach.call(tbody.querySelectorAll('tr[data-key]'), function (r) { existing[r.getAttribute('data-key')] = r; });
    var rows = items.map(function (item) {
      var row = existing[keyOf(item)] || create(item);
      update(row, item);
      return row;
    });
    if (rows.length === 0) { rows = [empty()]; }
    tbody.replaceChildren.apply(tbody, rows);
  }

  function newProducerRow(p) {
    var row = document.createElement('tr');
    row.setAttribute('data-key', p.stream + '|' + text(p.reference));
    ['p-stream', 'p-reference', 'p-open', 'p-inflight num', 'p-confirmed num', 'p-latency num', 'p-failed num', 'p-error']
      .forEach(function (cls) { var td = document.createElement('td'); td.className = cls; row.appendChild(td); });
    return row;
  }

  function updateProducerRow(row, p) {
    setText(row, 'p-stream', p.stream);
    setText(row, 'p-reference', p.reference);
    var open = cell(row, 'p-open');
    open.className = 'p-open ' + (p.isOpen ? 'ok' : 'bad');
    open.textContent = p.isOpen ? 'yes' : 'no';
    setText(row, 'p-inflight', p.unconfirmed);
    setText(row, 'p-confirmed', p.confirmed);
    setText(row, 'p-latency', formatMs(p.lastConfirmLatency) + ' / ' + formatMs(p.averageConfirmLatency));
    setText(row, 'p-failed', p.failed);
    setText(row, 'p-error', p.lastError);
  }

  function renderConnection(status) {
    var connection = document.getElementById('connection');
    var c = status.connection;
    connection.className = 'connection ' + (!c ? 'warn' : c.phase === 'Connected' ? 'ok' : c.phase === 'Connecting' ? 'warn' : 'bad');
    connection.textContent = !c ? 'Connection: unknown'
      : 'Connection: ' + c.phase + ' (' + c.endpoints + ')' + (c.phase !== 'Connected' && c.lastError ? ': ' + c.lastError : '');
    var publishing = document.getElementById('publishing');
    var failing = status.publishing && status.publishing.failingSince;
    publishing.className = 'publishing ' + (failing ? 'bad' : 'ok');
    publishing.textContent = failing ? 'Publishing failing since ' + failing + ': ' + status.publishing.lastError : 'Publishing: ok';
  }

  function render(status) {
    renderConnection(status);
    renderRows(document.querySelector('#consumers tbody'), status.consumers, key, newConsumerRow, updateConsumerRow,
      function () { return noneRow(12, 'No hosted consumers.'); });
    renderRows(document.querySelector('#producers tbody'), status.producers, function (p) { return p.stream + '|' + text(p.reference); },
      newProducerRow, updateProducerRow, function () { return noneRow(8, 'No producer yet (created on the first publish).'); });
    var updated = document.getElementById('updated');
    var now = new Date().toISOString();
    updated.setAttribute('datetime', now);
    updated.textContent = now;
  }

  function show(text, isError) {
    message.textContent = text;
    message.className = 'message' + (isError ? ' error' : '');
  }

  function problem(response) {
    return response.text().then(function (body) {
      try {
        var p = JSON.parse(body);
        return response.status + ' ' + (p.title || response.statusText) + (p.detail ? ': ' + p.detail : '');
      } catch (e) {
        return response.status + ' ' + response.statusText;
      }
    });
  }

  function refresh() {
    return fetch(api, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) { return problem(response).then(function (p) { throw new Error(p); }); }
        return response.json();
      })
      .then(function (status) {
        render(status);
        live.textContent = '(live, every ' + (refreshMs / 1000) + ' s)';
        if (message.className.indexOf('stale') >= 0) { show('', false); }
      })
      .catch(function (error) {
        live.textContent = '(updates failing)';
        show('Refreshing failed: ' + error.message, true);
        message.className += ' stale';
      });
  }

  function act(url, label) {
    show(label + '…', false);
    return fetch(url, { method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) { return problem(response).then(function (p) { show(label + ' failed: ' + p, true); }); }
        show(label + ': done.', false);
        return refresh();
      })
      .catch(function (error) { show(label + ' failed: ' + error.message, true); });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button) { return; }
    var action = button.getAttribute('data-action');
    if (action === 'pause-all' || action === 'resume-all') {
      act(api + '/' + action.replace('-all', ''), action === 'pause-all' ? 'Pause all' : 'Resume all');
      return;
    }
    var row = button.closest('tr[data-consumer]');
    if (!row) { return; }
    var name = row.getAttribute('data-consumer');
    var url = api + '/consumers/' + encodeURIComponent(name) + '/' + action;
    if (action === 'rewind') {
      var to = row.querySelector('input.rewind-to').value.trim();
      if (!to) { show('Rewind ' + name + ': enter a target (first, last, offset:N or timestamp:ISO 8601).', true); return; }
      url += '?to=' + encodeURIComponent(to);
    }
    act(url, action.charAt(0).toUpperCase() + action.slice(1) + ' ' + name);
  });

  live.textContent = '(live)';
  refresh();
  timer = setInterval(refresh, refreshMs);
  window.addEventListener('beforeunload', function () { clearInterval(timer); });
}());
