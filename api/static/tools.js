/* The viewer's tools: distance and area measurement, the attribute table (filter, sort, CSV
   export), print/PDF of the current map, a planned site placed on the map, and the terrain
   profile of a microwave hop between two sites. */
(function () {
  "use strict";

  const t = GP.t;
  const EARTH_RADIUS_M = 6378137;
  // The area a planned site would add to its operator's coverage.
  const GAINED_COLOUR = "#6200ea";

  // The area of a polygon on the sphere (m²), from its vertices in degrees.
  function sphericalArea(latlngs) {
    let sum = 0;
    const rad = Math.PI / 180;
    for (let i = 0; i < latlngs.length; i++) {
      const a = latlngs[i];
      const b = latlngs[(i + 1) % latlngs.length];
      sum += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
    }
    return Math.abs(sum * EARTH_RADIUS_M * EARTH_RADIUS_M / 2);
  }

  function formatDistance(m) {
    return m >= 1000 ? GP.number(m / 1000, 2) + " km" : GP.number(m, 0) + " m";
  }

  function formatArea(m2) {
    if (m2 >= 1e6) { return GP.number(m2 / 1e6, 2) + " km²"; }
    if (m2 >= 1e4) { return GP.number(m2 / 1e4, 2) + " ha"; }
    return GP.number(m2, 0) + " m²";
  }

  function setupMeasure(ctx) {
    const map = ctx.map;
    const box = document.getElementById("measure-box");
    const result = document.getElementById("measure-result");
    const buttons = { distance: document.getElementById("measure-distance"),
      area: document.getElementById("measure-area") };
    const renderer = L.svg({ pane: "highlight" });
    let mode = null;
    let points = [];
    let shape = null;

    const vertices = L.layerGroup().addTo(map);

    function draw() {
      if (shape) { map.removeLayer(shape); }
      const style = { renderer: renderer, pane: "highlight", color: "#d7301f", weight: 3,
        dashArray: "6 4", className: "gp-measure", interactive: false };
      shape = mode === "area" && points.length > 2
        ? L.polygon(points, Object.assign({ fillOpacity: 0.15 }, style))
        : L.polyline(points, style);
      shape.addTo(map);
      points.forEach(function (p) {
        L.circleMarker(p, { renderer: renderer, pane: "highlight", radius: 4, color: "#d7301f",
          fillOpacity: 1, interactive: false }).addTo(vertices);
      });
      if (mode === "distance") {
        let total = 0;
        for (let i = 1; i < points.length; i++) { total += map.distance(points[i - 1], points[i]); }
        result.textContent = t("distance") + ": " + formatDistance(total);
      } else {
        result.textContent = t("area") + ": " + (points.length > 2
          ? formatArea(sphericalArea(points)) : "—");
      }
    }

    function stop(clear) {
      GP.activeTool = null;
      mode = null;
      Object.values(buttons).forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      map.getContainer().style.cursor = "";
      if (clear) {
        if (shape) { map.removeLayer(shape); shape = null; }
        vertices.clearLayers();
        points = [];
        box.hidden = true;
      }
    }

    function begin(which) {
      if (GP.stopTools) { GP.stopTools(); }
      mode = which;
      buttons[which].setAttribute("aria-pressed", "true");
      box.hidden = false;
      result.textContent = t("measure_hint");
      map.getContainer().style.cursor = "crosshair";
      map.closePopup();
      GP.activeTool = { click: function (latlng) {
        points.push(latlng);
        vertices.clearLayers();
        draw();
        return true;
      } };
    }
    buttons.distance.addEventListener("click", function () { begin("distance"); });
    buttons.area.addEventListener("click", function () { begin("area"); });
    document.getElementById("measure-done").addEventListener("click", function () {
      stop(false);
    });
    document.getElementById("measure-clear").addEventListener("click", function () {
      stop(true);
    });
    return function () { stop(true); };
  }

  function csvCell(text) {
    const s = String(text);
    return /[",\n;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function setupTable(ctx) {
    const select = document.getElementById("table-layer");
    const panel = document.getElementById("table-panel");
    const filter = document.getElementById("table-filter");
    const head = document.querySelector("#attribute-table thead");
    const body = document.querySelector("#attribute-table tbody");
    const count = document.getElementById("table-count");
    const MAX_SHOWN = 500;
    let state = null;  // {entry, fields, rows: [{feature, cells, folded}], shown, sort}

    ctx.config.layers.filter(function (e) { return e.kind === "vector"; }).forEach(function (e) {
      const option = document.createElement("option");
      option.value = e.id;
      option.textContent = ctx.config.groups[e.group] + " · " + e.title;
      select.appendChild(option);
    });

    function render() {
      const needle = GP.fold(filter.value.trim());
      let rows = state.rows.filter(function (r) { return !needle || r.folded.indexOf(needle) >= 0; });
      if (state.sort) {
        const k = state.sort.index;
        const dir = state.sort.desc ? -1 : 1;
        rows = rows.slice().sort(function (a, b) {
          const x = a.raw[k];
          const y = b.raw[k];
          if (typeof x === "number" && typeof y === "number") { return dir * (x - y); }
          return dir * String(a.cells[k]).localeCompare(String(b.cells[k]), GP.lang);
        });
      }
      state.shown = rows;
      body.innerHTML = "";
      const fragment = document.createDocumentFragment();
      rows.slice(0, MAX_SHOWN).forEach(function (r) {
        const tr = document.createElement("tr");
        r.cells.forEach(function (c) {
          const td = document.createElement("td");
          td.textContent = c;
          tr.appendChild(td);
        });
        tr.addEventListener("click", function () {
          const drawn = ctx.highlight.show(r.feature);
          const bounds = drawn.getBounds();
          if (bounds.isValid()) { ctx.map.fitBounds(bounds, { maxZoom: 16 }); }
        });
        fragment.appendChild(tr);
      });
      body.appendChild(fragment);
      count.textContent = rows.length + " " + t("table_rows") + (rows.length > MAX_SHOWN
        ? " (" + t("table_shown") + " " + MAX_SHOWN + ")" : "");
    }

    function open(entry) {
      const fields = Object.keys(entry.popup_fields);
      document.getElementById("table-title").textContent = entry.title;
      head.innerHTML = "";
      const tr = document.createElement("tr");
      fields.forEach(function (f, i) {
        const th = document.createElement("th");
        th.textContent = entry.popup_fields[f] + (entry.units[f] ? " (" + GP.unit(entry.units[f])
          + ")" : "");
        th.addEventListener("click", function () {
          const desc = state.sort && state.sort.index === i && !state.sort.desc;
          state.sort = { index: i, desc: desc };
          render();
        });
        tr.appendChild(th);
      });
      head.appendChild(tr);
      body.innerHTML = "";
      count.textContent = t("loading");
      panel.hidden = false;
      const query = Object.keys(entry.filters).map(function (k) {
        return "&" + encodeURIComponent(k) + "=" + encodeURIComponent(entry.filters[k]);
      }).join("");
      return ctx.getJSON("/collections/" + encodeURIComponent(entry.source) +
        "/items?limit=10000" + query).then(function (collection) {
        const rows = collection.features.map(function (feature) {
          const raw = fields.map(function (f) { return feature.properties[f]; });
          // Units live in the header: the cells hold the values, names beside codes.
          const plain = Object.assign({}, entry, { units: {} });
          const cells = fields.map(function (f, i) {
            return ctx.formatValue(ctx.config, plain, f, raw[i]);
          });
          return { feature: feature, raw: raw, cells: cells, folded: GP.fold(cells.join(" | ")) };
        });
        state = { entry: entry, fields: fields, rows: rows, shown: rows, sort: null };
        render();
      });
    }

    function exportCsv() {
      if (!state) { return; }
      const header = Array.from(head.querySelectorAll("th")).map(function (th) {
        return csvCell(th.textContent);
      }).join(",");
      const lines = state.shown.map(function (r) { return r.cells.map(csvCell).join(","); });
      // A BOM, so that Excel reads the Vietnamese as UTF-8.
      const blob = new Blob(["\ufeff" + [header].concat(lines).join("\r\n") + "\r\n"],
        { type: "text/csv;charset=utf-8" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = state.entry.id.replace(/[^A-Za-z0-9_.-]/g, "_") + ".csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }

    document.getElementById("table-open").addEventListener("click", function () {
      const item = ctx.overlays[select.value];
      if (item) { open(item.entry); }
    });
    filter.addEventListener("input", function () { if (state) { render(); } });
    document.getElementById("table-export").addEventListener("click", exportCsv);
    document.getElementById("table-close").addEventListener("click", function () {
      panel.hidden = true;
    });
  }

  // The page laid out for paper: the map at the paper's size less its margins, the title and
  // the date above it, the sources below, the legend, scale bar and north arrow on it.
  const PAPER_MM = { A4: [297, 210], A3: [420, 297] };
  const MARGIN_MM = 10;

  function setupPrint(ctx) {
    const style = document.createElement("style");
    style.id = "print-page";
    document.head.appendChild(style);

    function layout() {
      const paper = document.getElementById("print-paper").value;
      const landscape = document.getElementById("print-orientation").value === "landscape";
      const size = PAPER_MM[paper];
      const w = (landscape ? size[0] : size[1]) - 2 * MARGIN_MM;
      const h = (landscape ? size[1] : size[0]) - 2 * MARGIN_MM;
      style.textContent = "@page { size: " + paper + " " + (landscape ? "landscape" : "portrait") +
        "; margin: " + MARGIN_MM + "mm; }";
      document.body.style.setProperty("--page-w", w + "mm");
      // A little under the page, so that rounding never spills onto a second page.
      document.body.style.setProperty("--page-h", (h - 2) + "mm");
      document.getElementById("print-heading").textContent =
        document.getElementById("print-title").value || ctx.config.title;
      document.getElementById("print-date").textContent = t("print_date") + ": " +
        new Date().toLocaleDateString(GP.lang === "vi" ? "vi-VN" : "en-GB",
          { day: "2-digit", month: "2-digit", year: "numeric" });
      const legend = document.getElementById("legend");
      legend.dataset.wasOpen = legend.open ? "1" : "";
      legend.open = true;
      const centre = ctx.map.getCenter();
      const zoom = ctx.map.getZoom();
      document.body.classList.add("printing");
      ctx.map.invalidateSize({ animate: false });
      ctx.map.setView(centre, zoom, { animate: false });
    }

    function restore() {
      if (!document.body.classList.contains("printing")) { return; }
      document.body.classList.remove("printing");
      const legend = document.getElementById("legend");
      legend.open = legend.dataset.wasOpen === "1";
      ctx.map.invalidateSize({ animate: false });
    }

    // The browser's own print (Ctrl+P) gets the same layout.
    window.addEventListener("beforeprint", function () {
      if (!document.body.classList.contains("printing")) { layout(); }
    });
    window.addEventListener("afterprint", restore);
    document.getElementById("print-go").addEventListener("click", function () {
      layout();
      // Let the tiles of the new size arrive before the print dialog takes the picture.
      setTimeout(function () { window.print(); }, 1200);
    });
    return { layout: layout, restore: restore };
  }

  // A planned site: where it would go, who could host it, what coverage is already there.
  function setupPlanned(ctx) {
    // An admin key plans for an operator: the first one with sites on the map.
    function firstOperator() {
      const sites = ctx.config.layers.find(function (e) { return e.source === "sites"; });
      return sites ? sites.filters.operator : "viettel";
    }
    const button = document.getElementById("planned-site");
    const renderer = L.svg({ pane: "highlight" });
    // The coverage the site would add, under the highlight and over the layers.
    ctx.map.createPane("whatif").style.zIndex = 440;
    let marker = null;
    let gained = null;
    button.addEventListener("click", function () {
      if (GP.stopTools) { GP.stopTools(); }
      button.setAttribute("aria-pressed", "true");
      ctx.map.getContainer().style.cursor = "crosshair";
      GP.activeTool = { click: function (latlng) {
        GP.activeTool = null;
        button.setAttribute("aria-pressed", "false");
        ctx.map.getContainer().style.cursor = "";
        if (marker) { ctx.map.removeLayer(marker); }
        marker = L.circleMarker(latlng, { renderer: renderer, pane: "highlight", radius: 9,
          color: "#000", weight: 2, fillColor: "#ffeb3b", fillOpacity: 1, interactive: false,
          className: "gp-planned" }).addTo(ctx.map);
        if (gained) { ctx.map.removeLayer(gained); gained = null; }
        const role = ctx.config.role;
        const planner = ctx.config.operator ? null : firstOperator();
        const hosts = role === "viewer" ? Promise.resolve('<p class="note">' + t("planned_key") +
          "</p>") : GP.hostsAt(ctx, latlng, planner);
        // The what-if takes a few seconds: the popup opens first and shows it when it comes.
        let whatIf = role === "viewer" ? "" : '<p class="note gp-whatif-wait">' +
          t("whatif_wait") + "</p>";
        let parts = [];
        const popup = L.popup(GP.popupOptions(ctx.map)).setLatLng(latlng);
        function show() {
          popup.setContent("<h4>" + t("planned_here") + "</h4>" + parts.join("") + whatIf +
            '<p class="note">' + latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5) + "</p>");
        }
        const placed = marker;
        Promise.all([hosts, GP.coverageAt(ctx, latlng)]).then(function (found) {
          parts = found;
          show();
          popup.openOn(ctx.map);
        });
        if (role !== "viewer") {
          GP.whatIfAt(ctx, latlng, planner).then(function (result) {
            if (marker !== placed) { return; }  // another site was placed meanwhile
            gained = L.geoJSON(result.gained, { pane: "whatif", interactive: false,
              style: { color: GAINED_COLOUR, weight: 2, fillColor: GAINED_COLOUR,
                fillOpacity: 0.35, className: "gp-gained" } }).addTo(ctx.map);
            whatIf = GP.whatIfHtml(ctx, result);
            show();
          }).catch(function (error) {
            whatIf = '<p class="note">' + GP.escapeHtml(error.message) + "</p>";
            show();
          });
        }
        return true;
      } };
    });
    return function () {
      button.setAttribute("aria-pressed", "false");
      ctx.map.getContainer().style.cursor = "";
    };
  }

  // Colours of the link profile: terrain, line of sight and F1, and the hop on the map.
  const LINK_COLOURS = { terrain: "#8c6d46", los: "#1f78b4", f1: "#6baed6",
    clear: "#1a9641", marginal: "#daa520", obstructed: "#d7301f" };
  const SVG_NS = "http://www.w3.org/2000/svg";

  // The profile as an SVG chart: the terrain with the earth's bulge, the line of sight
  // between the antennas and the first Fresnel zone around it, distances along the bottom.
  function drawProfile(svg, profile) {
    const width = 1000;
    const height = 300;
    const pad = { left: 52, right: 10, top: 10, bottom: 24 };
    const d = profile.distance_m;
    const ground = profile.terrain_m.map(function (h, i) { return h + profile.bulge_m[i]; });
    const lower = profile.los_m.map(function (h, i) { return h - profile.f1_m[i]; });
    const upper = profile.los_m.map(function (h, i) { return h + profile.f1_m[i]; });
    const low = Math.min.apply(null, ground.concat(lower));
    const high = Math.max.apply(null, ground.concat(upper));
    const span = Math.max(high - low, 1);
    const bottom = low - 0.05 * span;
    const top = high + 0.05 * span;
    const length = d[d.length - 1] || 1;
    function x(m) { return pad.left + (width - pad.left - pad.right) * m / length; }
    function y(h) {
      return pad.top + (height - pad.top - pad.bottom) * (top - h) / (top - bottom);
    }
    function line(values) {
      return values.map(function (v, i) {
        return (i ? "L" : "M") + x(d[i]).toFixed(1) + "," + y(v).toFixed(1);
      }).join("");
    }
    function path(attrs) {
      const element = document.createElementNS(SVG_NS, "path");
      Object.keys(attrs).forEach(function (k) { element.setAttribute(k, attrs[k]); });
      svg.appendChild(element);
      return element;
    }
    function text(content, tx, ty, anchor) {
      const element = document.createElementNS(SVG_NS, "text");
      element.setAttribute("x", tx);
      element.setAttribute("y", ty);
      element.setAttribute("font-size", "13");
      element.setAttribute("text-anchor", anchor || "start");
      element.textContent = content;
      svg.appendChild(element);
    }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.replaceChildren();
    path({ d: line(ground) + "L" + x(length) + "," + y(bottom) + "L" + x(0) + "," + y(bottom) +
      "Z", fill: LINK_COLOURS.terrain, "fill-opacity": "0.85", class: "link-terrain" });
    path({ d: line(lower), fill: "none", stroke: LINK_COLOURS.f1, "stroke-width": "2",
      "stroke-dasharray": "8 5", class: "link-f1" });
    path({ d: line(upper), fill: "none", stroke: LINK_COLOURS.f1, "stroke-width": "2",
      "stroke-dasharray": "8 5" });
    path({ d: line(profile.los_m), fill: "none", stroke: LINK_COLOURS.los, "stroke-width": "3",
      class: "link-los" });
    profile.obstacles.forEach(function (o) {
      path({ d: "M" + x(o.distance_m) + "," + y(top) + "V" + y(bottom),
        stroke: LINK_COLOURS.obstructed, "stroke-width": "2", class: "link-obstacle" });
    });
    text(GP.number(top, 0) + " m", pad.left - 4, pad.top + 12, "end");
    text(GP.number(bottom, 0) + " m", pad.left - 4, height - pad.bottom, "end");
    text("0", x(0), height - 6, "start");
    text(formatDistance(length), x(length), height - 6, "end");
    text(t("link_terrain") + " · " + t("link_los") + " · " + t("link_f1") + " (" +
      GP.number(profile.freq_ghz, 1) + " GHz, k = " + GP.number(profile.k_factor, 2) + ")",
      (width + pad.left) / 2, height - 6, "middle");
  }

  // A microwave hop between two sites clicked on the map: its profile over the server's
  // terrain in a panel under the map, and the hop drawn in the colour of its verdict.
  function setupLink(ctx) {
    if (!ctx.config.link_profile) { return function () {}; }
    document.getElementById("link-row").hidden = false;
    const button = document.getElementById("link-profile");
    const panel = document.getElementById("link-panel");
    const hint = document.getElementById("link-hint");
    const renderer = L.svg({ pane: "highlight" });
    let hop = null;
    let ends = [];

    // What the tool waits for, above the map: the panel would hide the sites to click.
    function say(message) {
      hint.hidden = false;
      hint.textContent = message;
    }

    function siteAt(latlng) {
      // Twelve screen pixels around the click, in ground metres.
      return ctx.getJSON("/viewer/identify?layer=sites&lon=" + latlng.lng + "&lat=" +
        latlng.lat + "&radius_m=" + Math.min(5000, 12 * GP.metresPerPixel(ctx.map, latlng)))
        .then(function (found) { return found.features[0] || null; });
    }

    function show(profile) {
      const a = profile.site_a;
      const b = profile.site_b;
      document.getElementById("link-title").textContent = t("link_profile") + ": " +
        a.site_id + " → " + b.site_id;
      hint.hidden = true;
      panel.hidden = false;
      drawProfile(document.getElementById("link-chart"), profile);
      const summary = document.getElementById("link-summary");
      summary.replaceChildren();
      const verdict = document.createElement("strong");
      verdict.className = "link-" + profile.verdict;
      verdict.textContent = t("link_" + profile.verdict);
      summary.appendChild(verdict);
      summary.appendChild(document.createTextNode(" · " + t("link_length") + " " +
        formatDistance(profile.length_m) + " · " + t("link_clearance") + " " +
        GP.number(profile.min_clearance_f1, 2) + " F1 (" +
        GP.number(profile.min_clearance_m, 1) + " m) " + t("link_at") + " " +
        formatDistance(profile.worst_distance_m) + " · " + t("link_obstacles") + " " +
        profile.obstacles.length + " · " + t("link_loss") + " " +
        GP.number(profile.bullington_loss_db, 1) + " dB"));
      if (hop) { ctx.map.removeLayer(hop); }
      hop = L.polyline([[a.lat, a.lon], [b.lat, b.lon]], { renderer: renderer, pane: "highlight",
        color: LINK_COLOURS[profile.verdict], weight: 4, interactive: false,
        className: "gp-link" }).addTo(ctx.map);
      // The hop in the part of the map the panel leaves visible.
      ctx.map.fitBounds(hop.getBounds(), { paddingTopLeft: [40, 40],
        paddingBottomRight: [40, panel.offsetHeight + 40], maxZoom: ctx.map.getZoom(),
        animate: false });
    }

    function stop(keepHint) {
      if (!keepHint) { hint.hidden = true; }
      GP.activeTool = null;
      button.setAttribute("aria-pressed", "false");
      ctx.map.getContainer().style.cursor = "";
    }

    function pick(latlng) {
      siteAt(latlng).then(function (site) {
        if (!site) { say(t("link_no_site")); return; }
        const id = site.properties.site_id;
        if (ends.length === 1 && ends[0].properties.site_id === id) {
          say(t("link_same_site"));
          return;
        }
        ends.push(site);
        if (ends.length === 1) { say(id + " → … " + t("link_pick_b")); return; }
        stop(true);
        say(t("link_wait"));
        const a = ends[0].properties;
        const b = ends[1].properties;
        const operator = a.operator === b.operator ? "&operator=" + a.operator : "";
        ctx.getJSON("/analysis/link?site_a=" + encodeURIComponent(a.site_id) + "&site_b=" +
          encodeURIComponent(b.site_id) + operator)
          .then(show)
          .catch(function (error) { say(error.message); });
      }).catch(function (error) { say(error.message); });
      return true;
    }

    button.addEventListener("click", function () {
      if (GP.stopTools) { GP.stopTools(); }
      ends = [];
      button.setAttribute("aria-pressed", "true");
      ctx.map.getContainer().style.cursor = "crosshair";
      say(t("link_pick_a"));
      GP.activeTool = { click: pick };
    });
    document.getElementById("link-close").addEventListener("click", function () {
      panel.hidden = true;
      hint.hidden = true;
      if (hop) { ctx.map.removeLayer(hop); hop = null; }
      stop();
    });
    return stop;
  }

  function init(ctx) {
    const stopMeasure = setupMeasure(ctx);
    const stopPlanned = setupPlanned(ctx);
    const stopLink = setupLink(ctx);
    GP.stopTools = function () {
      GP.activeTool = null;
      stopMeasure();
      stopPlanned();
      stopLink();
    };
    setupTable(ctx);
    ctx.print = setupPrint(ctx);
  }

  GP.tools = { init: init, sphericalArea: sphericalArea };
})();
