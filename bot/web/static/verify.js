// Keep the server's clock running on the page, so that a screenshot is visibly stale.
(function () {
  "use strict";
  var clock = document.getElementById("clock");
  if (!clock) { return; }
  var serverNow = Number(clock.dataset.serverNow);
  var checked = Number(clock.dataset.checked);
  var offset = serverNow - Date.now();  // server time minus this phone's time, fixed at load
  var options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                  second: "2-digit", hourCycle: "h23" };
  var format;
  try {
    format = new Intl.DateTimeFormat("en-US", Object.assign({ timeZone: clock.dataset.tz }, options));
  } catch (error) {
    format = new Intl.DateTimeFormat("en-US", options);  // unknown zone: the phone's own
  }
  function stamp(date) {  // 2026-03-02 09:00:00 in the server's zone, as the server writes it
    var part = {};
    format.formatToParts(date).forEach(function (item) { part[item.type] = item.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" + part.second;
  }
  var nowNode = document.getElementById("now");
  var agoNode = document.getElementById("ago");
  function tick() {
    var now = Date.now() + offset;
    nowNode.textContent = stamp(new Date(now));
    var seconds = Math.max(0, Math.floor((now - checked) / 1000));
    agoNode.textContent = clock.dataset.ago.replace("{seconds}", String(seconds));
    clock.dataset.live = "1";
  }
  tick();
  setInterval(tick, 1000);
})();
