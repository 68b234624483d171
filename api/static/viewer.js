/* gis-planner viewer: layers from /viewer/config.json, vector tiles (L.vectorGrid) and raster
   tiles, data-driven styles, a legend over the map, search from the keyboard, popups with
   names and units, the selected feature highlighted. Everything comes from this server; the
   basemap is off unless the server is configured with one. Tools (labels, measure, table,
   print, planned site) live in labels.js and tools.js. */
(function () {
  "use strict";

  const t = GP.t;
  const KEY_STORAGE = "gis-planner-api-key";
  const apiKey = sessionStorage.getItem(KEY_STORAGE) || "";
  const headers = apiKey ? { "X-API-Key": apiKey } : {};

  // Coverage under areas, areas under lines, lines under points.
  const Z_ORDER = { raster: 1, MultiPolygon: 2, LineString: 3, Point: 4 };

  function withLang(url) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "lang=" + GP.lang;
  }

  function getJSON(url) {
    return fetch(withLang(url), { headers: headers }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.detail || response.statusText); }
        return body;
      });
    });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // A field's value for people: labels of catalogue values, names beside codes, numbers in
  // the reader's style with their unit, yes/no for booleans.
  function formatValue(config, entry, field, value) {
    if (value === null || value === undefined || value === "") { return ""; }
    if (typeof value === "boolean") { return value ? t("yes") : t("no"); }
    if (/_code$/.test(field) && config.place_names[value]) {
      return config.place_names[value] + " (" + value + ")";
    }
    const unit = (entry.units || {})[field];
    if (typeof value === "number") {
      return GP.number(value, Math.abs(value) >= 100 ? 0 : 2) + (unit ? " " + GP.unit(unit) : "");
    }
    if (field === "operators" || field === "fibre_operators") {
      return String(value).split(",").map(function (v) {
        return config.value_labels[v.trim()] || v.trim();
      }).join(", ");
    }
    return (config.value_labels[value] || String(value)) + (unit ? " " + GP.unit(unit) : "");
  }

  // Raster tiles are fetched with the key in the X-API-Key header and shown from blob URLs:
  // an <img> could only carry the key in its URL, where every access log would keep it.
  const FetchedTileLayer = L.TileLayer.extend({
    createTile: function (coords, done) {
      const tile = document.createElement("img");
      tile.alt = "";
      tile.setAttribute("role", "presentation");
      fetch(this.getTileUrl(coords), { headers: headers }).then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + response.statusText); }
        return response.blob();
      }).then(function (blob) {
        tile.onload = function () {
          URL.revokeObjectURL(tile.src);
          done(null, tile);
        };
        tile.src = URL.createObjectURL(blob);
      }).catch(function (error) { done(error, tile); });
      return tile;
    },
  });

  const NorthArrow = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      const div = L.DomUtil.create("div", "north-arrow");
      div.setAttribute("aria-label", t("north"));
      div.innerHTML = '<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true">' +
        '<path d="M9 0 L17 22 L9 16 L1 22 Z" fill="#222"/><path d="M9 0 L9 16 L1 22 Z" ' +
        'fill="#fff" stroke="#222" stroke-width="1"/></svg>' + t("north");
      return div;
    },
  });

  function readHash() {
    const m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)/.exec(location.hash);
    return m ? { zoom: +m[1], lat: +m[2], lng: +m[3] } : null;
  }

  function vectorLayer(entry) {
    const styles = {};
    styles[entry.source] = GP.styles.layerStyle(entry).style;  // the tiles' layer name
    return L.vectorGrid.protobuf(entry.tiles, {
      rendererFactory: L.canvas.tile,
      zIndex: Z_ORDER[entry.geometry_type] || Z_ORDER.MultiPolygon,
      vectorTileLayerStyles: styles,
      // Clicks are answered by the server (/viewer/identify), whatever layer is on top.
      interactive: false,
      maxZoom: 19,
      className: "gp-layer gp-layer-" + entry.id.replace(/[^A-Za-z0-9_-]/g, "_"),
      fetchOptions: { headers: headers },
    });
  }

  function rasterLayer(entry) {
    const rb = entry.bounds;
    // Below the raster's minzoom the server refuses tiles: Leaflet must not ask for them.
    return new FetchedTileLayer(entry.tiles, {
      opacity: 0.75, maxZoom: 19, minZoom: entry.minzoom || 0, zIndex: Z_ORDER.raster,
      bounds: rb ? [[rb[1], rb[0]], [rb[3], rb[2]]] : undefined,
      className: "gp-layer gp-layer-" + entry.id.replace(/[^A-Za-z0-9_-]/g, "_"),
    });
  }

  // The whole province first, then the former provinces: picking one shows it whole.
  function areaPicker(config, map) {
    const areas = config.areas || [];
    if (areas.length < 2) { return; }
    const select = document.getElementById("area-select");
    areas.forEach(function (area) {
      const option = document.createElement("option");
      option.value = area.id;
      option.textContent = area.name;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      const b = areas.find(function (area) { return area.id === select.value; }).bounds;
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    });
    document.getElementById("area-pick").hidden = false;
  }

  function start(config) {
    document.getElementById("title").textContent = config.title;
    document.getElementById("print-title").value = config.title;
    document.getElementById("role").textContent = t("role") + ": " + config.role +
      (config.operator ? " (" + config.operator + ")" : "");
    const map = L.map("map", { preferCanvas: true, zoomControl: true });
    const view = readHash();
    // Before the first view: the URL holds the view from the start, a link to it included.
    map.on("moveend", function () {
      const c = map.getCenter();
      history.replaceState(null, "", "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" +
        c.lng.toFixed(5));
    });
    if (view) { map.setView([view.lat, view.lng], view.zoom); } else {
      const b = config.bounds;
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    }
    areaPicker(config, map);
    L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
    new NorthArrow().addTo(map);
    map.createPane("highlight").style.zIndex = 450;
    if (config.basemap_url) {
      L.tileLayer(config.basemap_url, { attribution: config.basemap_attribution, maxZoom: 19 })
        .addTo(map);
    }

    const overlays = {};
    config.layers.forEach(function (entry) {
      const layer = entry.kind === "raster" ? rasterLayer(entry) : vectorLayer(entry);
      overlays[entry.id] = { entry: entry, layer: layer, opacity: entry.kind === "raster"
        ? 0.75 : 1 };
      if (entry.visible) { layer.addTo(map); }
    });

    const ctx = { config: config, map: map, overlays: overlays, getJSON: getJSON,
      escapeHtml: escapeHtml, formatValue: formatValue, headers: headers };
    ctx.highlight = highlighter(ctx);
    buildSwitcher(ctx);
    buildLegend(ctx);
    map.on("layeradd layerremove", function (ev) {
      if (ev.layer instanceof L.GridLayer) { buildLegend(ctx); }
    });

    // Leaflet gives clicks on vector tiles to the tiles, not to the map: listen on the map's
    // element, and ignore clicks that ended a drag or landed on a popup or a control.
    const container = map.getContainer();
    let downAt = null;
    container.addEventListener("mousedown", function (ev) { downAt = [ev.clientX, ev.clientY]; });
    container.addEventListener("click", function (ev) {
      if (ev.target.closest(".leaflet-popup, .leaflet-control")) { return; }
      if (downAt && Math.hypot(ev.clientX - downAt[0], ev.clientY - downAt[1]) > 5) { return; }
      const latlng = map.mouseEventToLatLng(ev);
      if (GP.activeTool && GP.activeTool.click(latlng)) { return; }
      showPopup(ctx, latlng);
    });
    setupSearch(ctx);
    if (GP.labels) { GP.labels.init(ctx); }
    if (GP.tools) { GP.tools.init(ctx); }
    // For the tests and for whoever debugs the page.
    window.gisPlanner = ctx;
  }

  function popupOptions(map) {
    const size = map.getSize();
    return { maxWidth: Math.max(200, Math.min(380, size.x - 60)),
      minWidth: Math.min(200, size.x - 60),
      maxHeight: Math.max(160, Math.min(420, size.y - 140)), className: "popup",
      autoPanPadding: [10, 10] };
  }

  function buildSwitcher(ctx) {
    const config = ctx.config;
    const container = document.getElementById("layers");
    Object.keys(config.groups).forEach(function (group) {
      const fieldset = document.createElement("fieldset");
      fieldset.className = "group";
      fieldset.dataset.group = group;
      const legend = document.createElement("legend");
      legend.textContent = config.groups[group];
      fieldset.appendChild(legend);
      config.layers.filter(function (e) { return e.group === group; }).forEach(function (entry) {
        const item = ctx.overlays[entry.id];
        const row = document.createElement("div");
        row.className = "layer-row";
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = entry.visible;
        box.dataset.layer = entry.id;
        const slider = document.createElement("input");
        slider.type = "range";
        slider.min = "0";
        slider.max = "100";
        slider.value = String(Math.round(item.opacity * 100));
        slider.dataset.opacity = entry.id;
        slider.setAttribute("aria-label", t("opacity") + ": " + entry.title);
        slider.hidden = !entry.visible;
        slider.addEventListener("input", function () {
          item.opacity = Number(slider.value) / 100;
          item.layer.setOpacity(item.opacity);
        });
        box.addEventListener("change", function () {
          if (box.checked) { item.layer.addTo(ctx.map); } else { ctx.map.removeLayer(item.layer); }
          slider.hidden = !box.checked;
        });
        label.appendChild(box);
        if (entry.kind === "vector") { label.appendChild(GP.styles.swatch(entry)); }
        label.appendChild(document.createTextNode(entry.title));
        if (entry.description) { label.title = entry.description; }
        row.appendChild(label);
        row.appendChild(slider);
        fieldset.appendChild(row);
      });
      container.appendChild(fieldset);
    });
  }

  const legendCache = {};
  function buildLegend(ctx) {
    const box = document.getElementById("legend-items");
    box.innerHTML = "";
    Object.keys(ctx.overlays).forEach(function (id) {
      const item = ctx.overlays[id];
      if (!ctx.map.hasLayer(item.layer)) { return; }
      const entry = item.entry;
      if (entry.kind === "vector") {
        const classes = GP.styles.layerStyle(entry).classes;
        const row = document.createElement("div");
        row.className = "row";
        row.dataset.layer = entry.id;
        if (classes.length < 2) { row.appendChild(GP.styles.swatch(entry)); }
        const group = ctx.config.groups[entry.group];
        row.appendChild(document.createTextNode(group === entry.title ? entry.title
          : group + ": " + entry.title));
        box.appendChild(row);
        if (classes.length < 2) { return; }
        classes.forEach(function (c) {
          const sub = document.createElement("div");
          sub.className = "row class";
          sub.dataset.layer = entry.id;
          sub.appendChild(GP.styles.swatch(entry, c.style));
          sub.appendChild(document.createTextNode(c.label));
          box.appendChild(sub);
        });
      } else if (entry.legend) {
        const section = document.createElement("div");
        section.dataset.layer = entry.id;
        box.appendChild(section);
        const fill = function (legend) {
          section.innerHTML = "<h3>" + escapeHtml(entry.title) + " (" +
            escapeHtml(legend.unit) + ")</h3>";
          legend.entries.forEach(function (e) {
            section.insertAdjacentHTML("beforeend", '<div class="row"><span class="swatch" ' +
              'style="background:' + e.colour + '"></span>' + escapeHtml(e.label) + "</div>");
          });
          if (entry.description) {
            section.insertAdjacentHTML("beforeend", '<p class="note">' +
              escapeHtml(entry.description) + "</p>");
          }
        };
        if (legendCache[entry.legend]) { fill(legendCache[entry.legend]); } else {
          getJSON(entry.legend).then(function (legend) {
            legendCache[entry.legend] = legend;
            fill(legend);
          });
        }
      }
    });
  }

  // The selected feature, outlined over everything (SVG, so that it is in the page's DOM).
  function highlighter(ctx) {
    const renderer = L.svg({ pane: "highlight" });
    let drawn = null;
    function show(feature) {
      if (drawn) { ctx.map.removeLayer(drawn); }
      drawn = L.geoJSON(feature, {
        renderer: renderer,
        pane: "highlight",
        interactive: false,
        style: { color: "#00e5ff", weight: 5, opacity: 0.95, fill: false,
          className: "gp-highlight" },
        pointToLayer: function (_, latlng) {
          return L.circleMarker(latlng, { renderer: renderer, pane: "highlight", radius: 11,
            color: "#00e5ff", weight: 4, fill: false, className: "gp-highlight" });
        },
      }).addTo(ctx.map);
      return drawn;
    }
    function byId(layer, id) {
      return getJSON("/collections/" + encodeURIComponent(layer) + "/items/" +
        encodeURIComponent(id)).then(show);
    }
    function clear() {
      if (drawn) { ctx.map.removeLayer(drawn); drawn = null; }
    }
    return { show: show, byId: byId, clear: clear };
  }

  function featureHtml(ctx, entry, properties) {
    let html = "<h4>" + escapeHtml(ctx.config.groups[entry.group] + " · " + entry.title) +
      "</h4><table>";
    Object.keys(entry.popup_fields).forEach(function (field) {
      const text = formatValue(ctx.config, entry, field, properties[field]);
      if (text === "") { return; }
      html += "<tr><th>" + escapeHtml(entry.popup_fields[field]) + "</th><td>" +
        escapeHtml(text) + "</td></tr>";
    });
    return html + "</table>";
  }

  function coverageHtml(ctx, result) {
    let html = "<h4>" + t("coverage_here") + "</h4><table>";
    result.rsrp_by_operator.forEach(function (o) {
      html += "<tr><th>" + escapeHtml(o.operator_name) + "</th><td>" +
        GP.number(o.rsrp_dbm, 1) + " dBm</td></tr>";
    });
    result.samples.forEach(function (s) {
      if (s.value === null) { return; }
      const entry = ctx.overlays["raster." + s.raster + "." + s.band];
      const name = entry ? entry.entry.title : s.raster + " · " + s.band;
      html += "<tr><th>" + escapeHtml(name) + "</th><td>" +
        (Number.isInteger(s.value) ? String(s.value) : GP.number(s.value, 1)) + " " +
        escapeHtml(s.unit || "") + (s.label ? " · " + escapeHtml(s.label) : "") + "</td></tr>";
    });
    return html + "</table>";
  }

  function hostsHtml(ctx, found) {
    let html = "<h4>" + t("hosts") + "</h4>";
    if (!found.features.length) { return html + '<p class="note">' + t("hosts_none") + "</p>"; }
    html += "<table>";
    found.features.forEach(function (f) {
      const p = f.properties;
      const names = p.operators.split(",").map(function (o) {
        return ctx.config.value_labels[o] || o;
      });
      html += "<tr><th>#" + p.rank + " · " + escapeHtml(names.join(", ")) + "</th><td>" +
        GP.number(p.distance_m, 0) + " m · " + t("score") + " " + GP.number(p.score, 2) +
        " · " + t("ratio_if_hosted") + " " + GP.number(100 * p.ratio_if_hosted, 1) +
        " %</td></tr>";
    });
    return html + "</table>";
  }

  function visibleVectors(ctx) {
    return Object.keys(ctx.overlays).map(function (id) { return ctx.overlays[id]; })
      .filter(function (o) { return o.entry.kind === "vector" && ctx.map.hasLayer(o.layer); })
      .map(function (o) { return o.entry; });
  }

  function matches(entry, feature) {
    return entry.source === feature.layer && Object.keys(entry.filters).every(function (k) {
      return String(feature.properties[k]) === entry.filters[k];
    });
  }

  // Ground metres of one screen pixel at ``latlng`` at the map's zoom (Web Mercator).
  function metresPerPixel(map, latlng) {
    return 40075016.686 * Math.cos(latlng.lat * Math.PI / 180) /
      Math.pow(2, map.getZoom() + 8);
  }

  function identify(ctx, latlng) {
    const entries = visibleVectors(ctx);
    const sources = Array.from(new Set(entries.map(function (e) { return e.source; })));
    if (!sources.length) { return Promise.resolve([]); }
    // Eight screen pixels around the click, in ground metres.
    const query = "lon=" + latlng.lng + "&lat=" + latlng.lat + "&radius_m=" +
      Math.min(5000, 8 * metresPerPixel(ctx.map, latlng)) + sources.map(function (s) {
        return "&layer=" + encodeURIComponent(s);
      }).join("");
    return getJSON("/viewer/identify?" + query).then(function (result) {
      const shown = [];
      result.features.forEach(function (feature) {
        entries.filter(function (e) { return matches(e, feature); }).forEach(function (e) {
          shown.push({ entry: e, id: feature.id, properties: feature.properties });
        });
      });
      // Points first, then lines, then the areas they lie in.
      const rank = { Point: 0, LineString: 1 };
      return shown.sort(function (a, b) {
        return (rank[a.entry.geometry_type] ?? 2) - (rank[b.entry.geometry_type] ?? 2);
      });
    });
  }

  function coverageAt(ctx, latlng) {
    return ctx.config.coverage
      ? getJSON("/analysis/coverage/point?lon=" + latlng.lng + "&lat=" + latlng.lat)
        .then(function (result) { return coverageHtml(ctx, result); })
        .catch(function (error) { return '<p class="note">' + escapeHtml(error.message) + "</p>"; })
      : Promise.resolve('<p class="note">' + t("coverage_missing") + "</p>");
  }

  function hostsAt(ctx, latlng, operator) {
    return getJSON("/analysis/host-candidates?limit=3&lon=" + latlng.lng + "&lat=" +
      latlng.lat + (operator ? "&operator=" + operator : ""))
      .then(function (found) { return hostsHtml(ctx, found); })
      .catch(function (error) { return '<p class="note">' + escapeHtml(error.message) + "</p>"; });
  }

  // The coverage a planned site would add: villages newly covered, people and area gained.
  function whatIfAt(ctx, latlng, operator) {
    return getJSON("/analysis/coverage/what-if?lon=" + latlng.lng.toFixed(6) + "&lat=" +
      latlng.lat.toFixed(6) + (operator ? "&operator=" + operator : ""));
  }

  function whatIfHtml(ctx, result) {
    const number = new Intl.NumberFormat(GP.lang === "vi" ? "vi-VN" : "en-GB");
    let html = "<h4>" + t("whatif") + " · " + escapeHtml(ctx.config.value_labels[result.operator] ||
      result.operator) +
      " " + escapeHtml(result.technology) + "</h4><p>" + t("whatif_people") + ": <b>" +
      number.format(result.people_gained) + "</b> · " + t("whatif_area") + ": <b>" +
      number.format(result.area_gained_km2) + " km²</b></p>";
    if (!result.villages.length) {
      return html + '<p class="note">' + t("whatif_none") + "</p>";
    }
    html += '<table class="gp-whatif"><tr><th>' + t("whatif_village") + "</th><th>" +
      t("whatif_commune") + "</th><th>" + t("whatif_population") + "</th></tr>";
    result.villages.forEach(function (v) {
      html += "<tr><td>" + escapeHtml(v.name) + "</td><td>" + escapeHtml(v.commune_name ||
        v.commune_code) + "</td><td>" + number.format(v.population) + "</td></tr>";
    });
    return html + '</table><p class="note">' + t("whatif_note").replace("{cells}",
      number.format(result.existing_cells)).replace("{res}", result.resolution_m) + "</p>";
  }

  function showPopup(ctx, latlng) {
    const popup = L.popup(popupOptions(ctx.map)).setLatLng(latlng);
    const where = latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5);
    const features = identify(ctx, latlng).then(function (shown) {
      // The nearest thing clicked is outlined on the map.
      if (shown.length) { ctx.highlight.byId(shown[0].entry.source, shown[0].id); } else {
        ctx.highlight.clear();
      }
      return shown.map(function (f) { return featureHtml(ctx, f.entry, f.properties); })
        .join("");
    });
    // An operator planning a site here: the other operators' positions that could host it.
    const hosts = ctx.config.operator ? hostsAt(ctx, latlng) : Promise.resolve("");
    Promise.all([features, coverageAt(ctx, latlng), hosts]).then(function (parts) {
      popup.setContent(parts.join("") + '<p class="note">' + where + "</p>").openOn(ctx.map);
    }).catch(function (error) {
      popup.setContent('<p class="note">' + escapeHtml(error.message) + "</p>").openOn(ctx.map);
    });
  }

  // A combobox: typing lists the hits, arrows move through them, Enter picks one, Escape
  // closes the list; "no results" is said, not left blank.
  function setupSearch(ctx) {
    const input = document.getElementById("search-input");
    const list = document.getElementById("search-results");
    const status = document.getElementById("search-status");
    let timer = null;
    let hits = [];
    let active = -1;

    function setActive(index) {
      const items = list.querySelectorAll("li[role=option]");
      items.forEach(function (li, i) { li.setAttribute("aria-selected", String(i === index)); });
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function close() {
      list.innerHTML = "";
      hits = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function choose(hit) {
      const b = hit.bbox;
      ctx.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 15 });
      ctx.highlight.byId(hit.layer, hit.id);
      status.textContent = hit.label;
      close();
      if (window.matchMedia("(max-width: 700px)").matches) {
        document.getElementById("panel").classList.remove("open");
      }
    }
    function show(result) {
      close();
      hits = result.hits;
      if (!hits.length) {
        status.textContent = t("no_results") + ": “" + result.query + "”";
        return;
      }
      status.textContent = hits.length + " " + t("results");
      hits.forEach(function (hit, i) {
        const li = document.createElement("li");
        li.id = "search-hit-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = hit.label;
        li.addEventListener("click", function () { choose(hit); });
        list.appendChild(li);
      });
      input.setAttribute("aria-expanded", "true");
    }
    function query() {
      const q = input.value.trim();
      if (q.length < 2) { close(); status.textContent = ""; return Promise.resolve(); }
      return getJSON("/search?q=" + encodeURIComponent(q)).then(show);
    }
    document.getElementById("search").addEventListener("submit", function (e) {
      e.preventDefault();
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(query, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!hits.length) { return; }
        const step = e.key === "ArrowDown" ? 1 : -1;
        setActive((active + step + hits.length) % hits.length);
      } else if (e.key === "Enter") {
        e.preventDefault();
        clearTimeout(timer);
        if (hits.length) { choose(hits[Math.max(active, 0)]); return; }
        query().then(function () { if (hits.length === 1) { choose(hits[0]); } });
      } else if (e.key === "Escape") {
        close();
        status.textContent = "";
      }
    });
  }

  GP.translatePage();
  document.getElementById("lang-switch").addEventListener("click", GP.switchLanguage);
  document.getElementById("panel-toggle").addEventListener("click", function () {
    const panel = document.getElementById("panel");
    const open = panel.classList.toggle("open");
    this.setAttribute("aria-expanded", String(open));
  });
  if (window.matchMedia("(max-width: 700px)").matches) {
    document.getElementById("legend").removeAttribute("open");
  }
  document.getElementById("api-key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, document.getElementById("api-key").value.trim());
    window.location.reload();
  });
  document.getElementById("api-key-clear").addEventListener("click", function () {
    sessionStorage.removeItem(KEY_STORAGE);
    window.location.reload();
  });

  GP.hostsAt = hostsAt;
  GP.whatIfAt = whatIfAt;
  GP.whatIfHtml = whatIfHtml;
  GP.escapeHtml = escapeHtml;
  GP.coverageAt = coverageAt;
  GP.popupOptions = popupOptions;
  GP.metresPerPixel = metresPerPixel;
  getJSON("/viewer/config.json").then(start).catch(function (error) {
    document.getElementById("layers").insertAdjacentHTML("beforeend",
      '<p class="note">' + escapeHtml(error.message) + "</p>");
  });
})();
