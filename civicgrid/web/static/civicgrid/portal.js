// Citizen portal and grid worker page: the category picker (htmx fills the results; a tap picks
// one), the pin map (tap to set, drag to move) and the phone's location. No online tiles are
// needed: the map shows our own boundaries unless an intranet tile URL is configured.
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function setupPicker() {
    var results = document.getElementById("cat-results");
    if (!results) return;
    results.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button.pick");
      if (!btn) return;
      document.getElementById("category").value = btn.getAttribute("data-id");
      var chosen = document.getElementById("cat-chosen");
      chosen.textContent = results.getAttribute("data-chosen-label") + " ";
      var strong = document.createElement("strong");
      strong.textContent = btn.getAttribute("data-name");
      chosen.appendChild(strong);
      results.innerHTML = "";
    });
  }

  function setupMap() {
    var el = document.getElementById("pin-map");
    if (!el || typeof L === "undefined") return;
    var config = readJSON("map-config") || {center: [24.58, 118.1], zoom: 13};
    var outlines = readJSON("map-outlines");
    var lon = document.getElementById("lon"), lat = document.getElementById("lat");
    var status = document.getElementById("pin-status");
    var map = L.map(el, {zoomControl: true, attributionControl: !!config.tiles});
    if (config.tiles) L.tileLayer(config.tiles, {attribution: config.attribution || "", maxZoom: 19}).addTo(map);
    var bounds = null;
    if (outlines && outlines.features && outlines.features.length) {
      var layer = L.geoJSON(outlines, {
        style: {color: "#0b57d0", weight: 1.5, fillColor: "#0b57d0", fillOpacity: 0.05},
        onEachFeature: function (f, l) { if (f.properties && f.properties.name) l.bindTooltip(f.properties.name); },
      }).addTo(map);
      bounds = layer.getBounds();
    }
    if (bounds && bounds.isValid()) map.fitBounds(bounds); else map.setView(config.center, config.zoom);
    var marker = null;
    function place(latlng, pan) {
      if (!marker) {
        marker = L.marker(latlng, {draggable: true, keyboard: true, alt: el.getAttribute("aria-label")}).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      status.textContent = status.getAttribute("data-set") + " " + lat.value + ", " + lon.value;
      if (pan) map.setView(latlng, Math.max(map.getZoom(), 16));
    }
    if (lat.value && lon.value) place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), true);
    map.on("click", function (ev) { place(ev.latlng, false); });
    var locate = document.getElementById("locate-me");
    if (locate) {
      if (!navigator.geolocation) { locate.hidden = true; return; }
      locate.addEventListener("click", function () {
        status.textContent = locate.getAttribute("data-busy");
        navigator.geolocation.getCurrentPosition(function (pos) {
          place(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
        }, function () {
          status.textContent = locate.getAttribute("data-failed");
        }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
      });
    }
    // For tests and embedding: place the pin programmatically.
    el.civicgridPlace = function (latitude, longitude) { place(L.latLng(latitude, longitude), true); };
  }

  document.addEventListener("DOMContentLoaded", function () { setupPicker(); setupMap(); });
})();
