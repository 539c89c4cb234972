/* Command-centre console: keyboard queue, maps and charts. No framework; htmx does the polling. */
(function () {
  "use strict";

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // --- the queue: j/k move, Enter opens (the focused link), / searches --------------------------
  var selected = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue tr.row")); }

  function select(row, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); });
    if (!row) { return; }
    row.classList.add("selected");
    selected = row.getAttribute("data-number");
    if (focus) { row.querySelector("a.case-link").focus(); }
  }

  function initQueue() {
    var queue = document.getElementById("queue");
    if (!queue) { return; }
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      var typing = tag === "input" || tag === "select" || tag === "textarea";
      if (e.key === "/" && !typing) {
        e.preventDefault();
        document.getElementById("id_q").focus();
        return;
      }
      if (e.key === "Escape" && typing) { e.target.blur(); return; }
      if (typing || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (e.key !== "j" && e.key !== "k") { return; }
      var all = rows();
      if (!all.length) { return; }
      var index = all.findIndex(function (r) { return r.getAttribute("data-number") === selected; });
      index = index < 0 ? 0 : index + (e.key === "j" ? 1 : -1);
      index = Math.max(0, Math.min(all.length - 1, index));
      e.preventDefault();
      select(all[index], true);
    });
    queue.addEventListener("focusin", function (e) {
      var row = e.target.closest && e.target.closest("tr.row");
      if (row) { select(row, false); }
    });
    // Tabs switch in place (the link still works without JavaScript).
    queue.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("a[data-tab]");
      if (!link || !window.htmx) { return; }
      e.preventDefault();
      document.getElementById("tab-input").value = link.getAttribute("data-tab");
      history.replaceState(null, "", link.getAttribute("href"));
      htmx.trigger(queue, "console-tab");
    });
    // Keep the selection (and focus) across the polled refresh.
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.target !== queue || !selected) { return; }
      var hadFocus = document.activeElement === document.body || queue.contains(document.activeElement);
      var row = queue.querySelector('tr.row[data-number="' + selected + '"]');
      if (row) { select(row, hadFocus && document.activeElement === document.body); }
    });
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      // Remember whether a row link had focus; the swap will remove it.
      if (e.target === queue && queue.contains(document.activeElement)) { document.activeElement.blur(); }
    });
  }

  // --- maps ----------------------------------------------------------------------------------------
  var SLA_COLOURS = { on_time: "#1e7b34", warning: "#c77700", overdue: "#b3261e" };
  var LEVEL_STYLES = {
    district: { color: "#0b4f9c", weight: 3, fill: false },
    street: { color: "#4a6fa5", weight: 2, fill: false, dashArray: "6 4" },
    community: { color: "#6b7f99", weight: 1.5, fillOpacity: 0.03 },
    grid: { color: "#8d6e00", weight: 1, fillOpacity: 0.06 }
  };

  function baseMap(el) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.5, maxZoom: 19 });
    // A provisional view: vector layers cannot be added to a map without one; fitBounds follows.
    map.setView([30, 110], 4);
    var tiles = json("tile-url");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    return map;
  }

  function initCaseMap() {
    var el = document.getElementById("case-map");
    if (!el || !window.L) { return; }
    var map = baseMap(el);
    var grid = json("grid-feature");
    var point = json("case-point");
    var bounds = null;
    if (grid) {
      var layer = L.geoJSON(grid, { style: LEVEL_STYLES.grid }).addTo(map);
      layer.bindTooltip(grid.properties.name);
      bounds = layer.getBounds();
    }
    if (point) {
      L.circleMarker([point[1], point[0]], { radius: 8, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 }).addTo(map);
      bounds = bounds ? bounds.extend([point[1], point[0]]) : L.latLngBounds([[point[1], point[0]], [point[1], point[0]]]);
    }
    if (bounds) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 }); }
  }

  function worst(markers) {
    var rank = { on_time: 0, warning: 1, overdue: 2 }, best = "on_time";
    markers.forEach(function (m) { if (rank[m.options.sla] > rank[best]) { best = m.options.sla; } });
    return best;
  }

  function initConsoleMap() {
    var el = document.getElementById("console-map");
    if (!el || !window.L) { return; }
    var strings = json("map-strings");
    var status = document.getElementById("map-status");
    var map = baseMap(el);
    var layerUrl = el.getAttribute("data-layer-url");
    var gridUrl = el.getAttribute("data-grid-url");
    var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
    var layers = {};
    var loadedGridParents = {};
    var pending = 0;
    var fitted = false;
    status.textContent = strings.loading;

    function done() { pending -= 1; if (pending === 0) { status.textContent = strings.loaded; el.setAttribute("data-ready", "1"); } }
    function fetchJson(url) {
      pending += 1;
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      }).catch(function () { status.textContent = strings.failed; return null; });
    }
    function layerFor(level, label) {
      if (!layers[level]) {
        layers[level] = L.geoJSON(null, {
          style: LEVEL_STYLES[level],
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(feature.properties.name, { sticky: true });
            if (level === "grid") {
              layer.on("click", function (e) {
                var url = gridUrl.replace("000000000000000", feature.properties.code);
                fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
                  L.popup().setLatLng(e.latlng).setContent(html).openOn(map);
                });
              });
            }
          }
        }).addTo(map);
        control.addOverlay(layers[level], label);
      }
      return layers[level];
    }
    function loadGrids() {
      if (map.getZoom() < 14 || !layers.community) { return; }
      var view = map.getBounds();
      layers.community.eachLayer(function (c) {
        var code = c.feature.properties.code;
        if (loadedGridParents[code] || !view.intersects(c.getBounds())) { return; }
        loadedGridParents[code] = true;
        fetchJson(layerUrl.replace("LEVEL", "grid") + "?parent=" + code).then(function (data) {
          if (data) { layerFor("grid", labels.grid).addData(data); layers.grid.bringToFront(); }
          done();
        });
      });
    }
    var labels = {};
    (json("map-levels") || []).forEach(function (lvl) { labels[lvl.key] = lvl.label; });
    ["district", "street", "community"].forEach(function (level) {
      var layer = layerFor(level, labels[level]);
      fetchJson(layerUrl.replace("LEVEL", level)).then(function (data) {
        if (data) {
          layer.addData(data);
          if (!fitted && data.features.length && (level === "district" || level === "community")) {
            map.fitBounds(layer.getBounds(), { padding: [10, 10] });
            fitted = true;
          }
          if (level === "community") { loadGrids(); }
        }
        done();
      });
    });
    map.on("moveend", loadGrids);

    var clusters = L.markerClusterGroup({
      showCoverageOnHover: false,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 10 ? 30 : n < 100 ? 38 : 46;
        return L.divIcon({ html: "<span>" + n + "</span>", className: "cluster sla-" + worst(cluster.getAllChildMarkers()), iconSize: [size, size] });
      }
    });
    control.addOverlay(clusters, strings.cases);
    map.addLayer(clusters);
    fetchJson(el.getAttribute("data-cases-url")).then(function (data) {
      if (data) {
        var markers = data.cases.map(function (c) {
          var m = L.circleMarker([c.lat, c.lon], { radius: 7, color: "#fff", weight: 2, fillColor: SLA_COLOURS[c.sla] || "#555", fillOpacity: 1, sla: c.sla });
          var a = document.createElement("a");
          a.href = data.url.replace("NUMBER", encodeURIComponent(c.number));
          a.textContent = c.number + " " + c.title;
          m.bindPopup(a);
          return m;
        });
        clusters.addLayers(markers);
        el.setAttribute("data-markers", String(markers.length));
      }
      done();
    });
  }

  // --- dashboard charts ---------------------------------------------------------------------------
  function initDashboard() {
    var data = json("dashboard-data");
    if (!data || !window.echarts) { return; }
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var c = echarts.init(el, null, { renderer: "svg" });
      c.setOption(Object.assign({ textStyle: { fontFamily: "inherit" }, grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true }, tooltip: { trigger: "axis" } }, option));
      window.addEventListener("resize", function () { c.resize(); });
    }
    var intake = data.intake.filter(function (r) { return r.value > 0; });
    chart("chart-intake", {
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: intake.length ? intake : [{ name: "—", value: 0 }] }]
    });
    chart("chart-departments", {
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.departments.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: data.departments.map(function (r) { return r.value; }), itemStyle: { color: "#b3261e" } }]
    });
    function trend(id, t) {
      chart(id, {
        legend: { type: "scroll", top: 0 },
        xAxis: { type: "category", data: t.days },
        yAxis: { type: "value", minInterval: 1 },
        series: t.series.map(function (s) { return { name: s.name, type: "line", stack: "total", areaStyle: {}, data: s.data, showSymbol: false }; })
      });
    }
    trend("chart-category", data.by_category);
    trend("chart-district", data.by_district);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initQueue();
    initCaseMap();
    initConsoleMap();
    initDashboard();
  });
})();
