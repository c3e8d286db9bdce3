// A small stand-in of Telegram's telegram-web-app.js, served only with the local Bot API (the shell and
// the tests). Like Telegram's, it reads the launch parameters from the URL fragment, which the browser
// never sends to a server: tgWebAppData (initData, signed with the local bot token by `:app`),
// tgWebAppThemeParams (JSON) and tgWebAppColorScheme (light or dark).
(function () {
  "use strict";
  var key = "healthcode-local-webapp";
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (error) { saved = {}; }
  var launch = {
    initData: fragment.get("tgWebAppData") || saved.initData || "",
    theme: fragment.get("tgWebAppThemeParams") || saved.theme || "{}",
    scheme: fragment.get("tgWebAppColorScheme") || saved.scheme || "light"
  };
  try { sessionStorage.setItem(key, JSON.stringify(launch)); } catch (error) { /* private mode: no reload */ }
  if (window.location.hash) { history.replaceState(null, "", window.location.pathname + window.location.search); }
  var themeParams = {};
  try { themeParams = JSON.parse(launch.theme); } catch (error) { themeParams = {}; }
  var unsafe = {};
  new URLSearchParams(launch.initData).forEach(function (value, name) {
    try { unsafe[name] = name === "user" ? JSON.parse(value) : value; } catch (error) { unsafe[name] = value; }
  });
  window.Telegram = { WebApp: {
    initData: launch.initData,
    initDataUnsafe: unsafe,
    themeParams: themeParams,
    colorScheme: launch.scheme === "dark" ? "dark" : "light",
    platform: "local",
    version: "8.0",
    isExpanded: true,
    ready: function () {},
    expand: function () {},
    close: function () { window.close(); },
    onEvent: function () {},
    offEvent: function () {},
    // No camera here: the scanned text is typed (tests replace this function).
    showScanQrPopup: function (params, callback) {
      var text = window.prompt((params && params.text) || "QR");
      if (text && callback) { callback(text); }
    },
    closeScanQrPopup: function () {}
  } };
})();
