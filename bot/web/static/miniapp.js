// The Mini App page: asks the API (with Telegram's signed initData) and shows what it answers.
// No business logic here: the server validates the form, evaluates the code and words every message.
(function () {
  "use strict";
  var app = (window.Telegram && window.Telegram.WebApp) || null;
  var words = JSON.parse(document.body.getAttribute("data-words") || "{}");
  var state = { status: null, fetchedAt: 0, clock: null };

  function $(id) { return document.getElementById(id); }
  function show(id) {
    ["loading", "outside", "unregistered", "code-screen", "declaration"].forEach(function (screen) {
      $(screen).hidden = screen !== id;
    });
    document.body.setAttribute("data-state", id);
    // Checkpoint mode sits under the code, or under "not registered": staff need not be registered citizens.
    $("checkpoint").hidden = !(state.status && state.status.checkpoint) || (id !== "code-screen" && id !== "unregistered");
  }

  function applyTheme() {
    var root = document.documentElement;
    if (!app) { return; }
    root.setAttribute("data-scheme", app.colorScheme === "dark" ? "dark" : "light");
    var theme = app.themeParams || {};
    var names = { bg_color: "--bg", text_color: "--text", hint_color: "--hint", button_color: "--button",
                  button_text_color: "--button-text", secondary_bg_color: "--secondary-bg" };
    Object.keys(names).forEach(function (key) {
      if (typeof theme[key] === "string" && /^#[0-9a-fA-F]{3,8}$/.test(theme[key])) {
        root.style.setProperty(names[key], theme[key]);
      }
    });
  }

  function applyWords(fresh) {
    if (fresh) { words = fresh; }
    document.documentElement.lang = words.lang || document.documentElement.lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-word]"), function (element) {
      var word = words[element.getAttribute("data-word")];
      if (typeof word === "string") { element.textContent = word; }
    });
  }

  function call(method, path, body) {
    var options = { method: method, headers: { "Authorization": "tma " + app.initData }, cache: "no-store" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (document) { return { status: response.status, body: document }; });
    });
  }

  function outside(reason) {
    state.status = null;
    $("outside-reason").textContent = reason || "";
    show("outside");
  }

  function load() {
    if (!app || !app.initData) { outside("missing_init_data"); return; }
    call("GET", "/app/api/status").then(function (answer) {
      if (answer.status === 401) { outside(answer.body.reason); return; }
      if (answer.status !== 200) { $("message").textContent = words.unavailable; return; }
      render(answer.body);
    }).catch(function () { $("message").hidden = false; $("message").textContent = words.unavailable; });
  }

  function render(status) {
    state.status = status;
    state.fetchedAt = Date.now();
    applyWords(status.words);
    $("region").textContent = status.region;
    document.title = status.region + " · " + (words.title || "");
    if (!status.registered) {
      $("unregistered-message").textContent = status.message;
      if (status.chat_url) { $("to-chat").href = status.chat_url; $("to-chat").hidden = false; }
      show("unregistered");
      return;
    }
    var code = status.code;
    var band = $("band");
    band.className = "band band-" + (code ? code.colour : "none");
    document.body.setAttribute("data-colour", code ? code.colour : "");
    $("colour-word").textContent = code ? code.colour_text : "";
    $("qr").innerHTML = code ? code.qr_svg : "";  // our server's SVG of the credential; no script in it
    $("name").textContent = code ? code.masked_name : "";
    $("validity").textContent = code ? code.validity : "";
    $("reason").textContent = code ? code.reason : "";
    $("green-on").textContent = code && code.green_on ? code.green_on : "";
    $("green-on").hidden = $("green-on-label").hidden = !(code && code.green_on);
    $("message").hidden = !status.message;
    $("message").textContent = status.message || "";
    $("notice").hidden = !status.notice;
    $("notice").textContent = status.notice || "";
    buildForm(status.form);
    startClock();
    show("code-screen");
  }

  function startClock() {
    var status = state.status;
    var format = new Intl.DateTimeFormat("sv-SE", { timeZone: status.tz, year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    function tick() {
      $("clock").textContent = format.format(new Date(status.now_ms + (Date.now() - state.fetchedAt)));
      document.body.setAttribute("data-live", "1");
    }
    if (state.clock) { clearInterval(state.clock); }
    tick();
    state.clock = setInterval(tick, 1000);
  }

  function choice(kind, name, option, checked) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = kind; input.name = name; input.value = option.value || option.code; input.checked = !!checked;
    label.appendChild(input);
    label.appendChild(document.createTextNode(option.label));
    return label;
  }

  function fill(id, kind, options, first) {
    var box = $(id).querySelector(".choices");
    box.textContent = "";
    options.forEach(function (option, index) { box.appendChild(choice(kind, id, option, first && index === 0)); });
    $(id).hidden = options.length === 0;
  }

  function buildForm(form) {
    if (!form) { return; }
    fill("symptoms", "checkbox", form.symptoms, false);
    fill("contact", "radio", form.contact, true);
    fill("travel", "radio", form.travel, true);
    fill("visited", "checkbox", form.areas, false);
    fill("diagnosis", "radio", form.diagnosis, true);
  }

  function picked(name, many) {
    var values = Array.prototype.map.call(document.querySelectorAll('input[name="' + name + '"]:checked'),
      function (input) { return input.value; });
    return many ? values : (values[0] || null);
  }

  function clearProblems() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-problem]"), function (element) {
      element.hidden = true; element.textContent = "";
    });
    $("form-message").hidden = true;
  }

  function openForm() {
    clearProblems();
    $("form-title").textContent = (words.form_title || "").replace("{day}", state.status.today);
    show("declaration");
    $("temperature").focus();
  }

  function submit(event) {
    event.preventDefault();
    clearProblems();
    var body = { day: state.status.today, temperature: $("temperature").value, symptoms: picked("symptoms", true),
                 contact: picked("contact"), diagnosis: picked("diagnosis") };
    if (state.status.form.areas.length) { body.visited = picked("visited", true); } else { body.travel = picked("travel"); }
    $("submit").disabled = true;
    call("POST", "/app/api/declare", body).then(function (answer) {
      $("submit").disabled = false;
      if (answer.status === 401) { outside(answer.body.reason); return; }
      var problems = answer.body.problems || {};
      Object.keys(problems).forEach(function (field) {
        var element = document.querySelector('[data-problem="' + field + '"]');
        if (element) { element.textContent = problems[field]; element.hidden = false; }
      });
      if (Object.keys(problems).length || !answer.body.status) {
        $("form-message").textContent = answer.body.message || words.unavailable;
        $("form-message").hidden = false;
        return;
      }
      render(answer.body.status);
      $("notice").textContent = answer.body.message;
      $("notice").hidden = false;
    }).catch(function () { $("submit").disabled = false; $("form-message").textContent = words.unavailable; $("form-message").hidden = false; });
  }

  function scan() {
    app.showScanQrPopup({ text: words.scan }, function (text) {
      call("POST", "/app/api/scan", { c: text }).then(function (answer) {
        var verdict = $("verdict");
        verdict.textContent = "";
        (answer.body.verdict || [answer.body.detail || words.unavailable]).forEach(function (line) {
          var paragraph = document.createElement("p");
          paragraph.textContent = line;
          verdict.appendChild(paragraph);
        });
        // Staff who scanned a valid code: the temperature field, against this scan's random reference.
        state.scanRef = answer.body.temperature_allowed ? answer.body.ref : null;
        $("reading").hidden = !state.scanRef;
        $("reading-temperature").value = "";
        $("reading-problem").hidden = true;
        $("reading-result").hidden = true;
        $("scan-result").hidden = false;
        if (state.scanRef) { $("reading-temperature").focus(); }
      });
      return true;  // close the scanner after the first code
    });
  }

  function record(event) {
    event.preventDefault();
    if (!state.scanRef) { return; }
    $("reading-problem").hidden = true;
    $("reading-submit").disabled = true;
    call("POST", "/app/api/reading", { ref: state.scanRef, temperature: $("reading-temperature").value })
      .then(function (answer) {
        $("reading-submit").disabled = false;
        if (answer.status === 401) { outside(answer.body.reason); return; }
        var problem = (answer.body.problems || {}).temperature;
        if (problem) { $("reading-problem").textContent = problem; $("reading-problem").hidden = false; return; }
        $("reading-result").textContent = answer.body.message || words.unavailable;
        $("reading-result").setAttribute("data-colour", answer.body.colour || "");
        $("reading-result").hidden = false;
        state.scanRef = null;  // one reading per scan: the next person is scanned again
        $("reading").hidden = true;
      }).catch(function () { $("reading-submit").disabled = false; $("reading-result").textContent = words.unavailable; $("reading-result").hidden = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyTheme();
    applyWords();
    $("declare").addEventListener("click", openForm);
    $("refresh").addEventListener("click", load);
    $("cancel").addEventListener("click", function () { show("code-screen"); });
    $("declaration").addEventListener("submit", submit);
    $("scan").addEventListener("click", scan);
    $("reading").addEventListener("submit", record);
    if (app) { app.ready(); if (app.expand) { app.expand(); } }
    load();
  });
})();
