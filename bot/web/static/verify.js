// Keep the server's clock running on the page, so that a screenshot is visibly stale.
(function () {
  "use strict";
  var clock = document.getElementById("clock");
  if (!clock) { return; }
  var serverNow = Number(clock.dataset.serverNow);
  var checked = Number(clock.dataset.checked);
  var offset = serverNow - Date.now();  // server time minus this phone's time, fixed at load
  var format;
  try {
    format = new Intl.DateTimeFormat(clock.dataset.lang, {
      timeZone: clock.dataset.tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
    });
  } catch (error) {
    format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }
  var nowNode = document.getElementById("now");
  var agoNode = document.getElementById("ago");
  function tick() {
    var now = Date.now() + offset;
    nowNode.textContent = format.format(new Date(now));
    var seconds = Math.max(0, Math.floor((now - checked) / 1000));
    agoNode.textContent = clock.dataset.ago.replace("{seconds}", String(seconds));
    clock.dataset.live = "1";
  }
  tick();
  setInterval(tick, 1000);
})();
