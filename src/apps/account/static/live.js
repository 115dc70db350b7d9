/**
 * The account pages' live channel: asks the session for a one-time token,
 * opens the session's WebSocket with it, and shows each event (a change made
 * in another tab) without reloading. Served as a file, so the pages' CSP needs
 * no inline script. Reconnects with a growing delay; stops when the session
 * has ended (the token request is answered with a 4xx).
 */
/* global document, window, fetch, WebSocket, location */
(function () {
  'use strict';

  var tokenUrl = document.body && document.body.getAttribute('data-token-url');
  if (!tokenUrl || typeof WebSocket === 'undefined') return;

  var status = document.getElementById('live-status');
  var list = document.getElementById('live-events');
  var delay = 1000;
  var MAX_DELAY = 60000;
  var MAX_SHOWN = 20;

  function setStatus(text, on) {
    if (!status) return;
    status.textContent = text;
    status.className = on ? 'live-status on' : 'live-status';
  }

  function setLive(name, text) {
    var nodes = document.querySelectorAll('[data-live="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].tagName === 'INPUT') nodes[i].value = text;
      else nodes[i].textContent = text;
    }
  }

  function bytes(n) {
    var units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    while (n >= 1024 && u < units.length - 1) {
      n /= 1024;
      u++;
    }
    return u === 0
      ? n + ' bytes'
      : (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10) + ' ' + units[u];
  }

  function describe(event) {
    switch (event.type) {
      case 'quota': {
        var q = event.quota;
        var limit = q.bytesLimit === 0 ? 'unlimited' : bytes(q.bytesLimit);
        setLive('quota-bytes', bytes(q.bytesUsed) + ' of ' + limit);
        return 'Storage used is now ' + bytes(q.bytesUsed) + ' of ' + limit + '.';
      }
      case 'forwarding': {
        var f = event.forwarding;
        if (f.addresses.length === 0) return 'Forwarding was turned off.';
        return (
          'Mail is now forwarded to ' +
          f.addresses.join(', ') +
          (f.keepCopy ? ', keeping a copy.' : ', keeping no copy.')
        );
      }
      case 'vacation':
        return event.enabled
          ? 'The vacation message is on: "' + event.subject + '".'
          : 'The vacation message is off.';
      case 'vacation-log-cleared':
        return 'The vacation log was cleared.';
      case 'fullname':
        setLive('fullname', event.fullName);
        return 'The full name is now "' + event.fullName + '".';
      case 'password-changed':
        return 'The password was changed.';
      case 'accountd':
        return event.available
          ? 'Account services are available again.'
          : 'Account services are unavailable.';
      default:
        return null;
    }
  }

  function show(text, at) {
    if (!list || !text) return;
    var none = list.querySelector('.none');
    if (none) list.removeChild(none);
    var item = document.createElement('li');
    var time = new Date(at || Date.now());
    item.textContent = time.toLocaleTimeString() + ': ' + text;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_SHOWN) list.removeChild(list.lastChild);
  }

  function retry() {
    setStatus('live updates paused', false);
    window.setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY);
  }

  function connect() {
    fetch(tokenUrl, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) {
          setStatus('session ended', false);
          return null;
        }
        if (!response.ok) throw new Error('token request failed: ' + response.status);
        return response.json();
      })
      .then(function (body) {
        if (!body) return;
        var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
        var ws = new WebSocket(scheme + location.host + body.url);
        ws.onopen = function () {
          delay = 1000;
          setStatus('live updates on', true);
        };
        ws.onmessage = function (message) {
          var event;
          try {
            event = JSON.parse(message.data);
          } catch {
            return;
          }
          if (event.type !== 'hello') show(describe(event), event.at);
        };
        // Whatever closed it, ask for a new token: an ended session answers that with a 4xx.
        ws.onclose = retry;
      })
      .catch(retry);
  }

  connect();
})();
