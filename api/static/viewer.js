/* gis-planner viewer: layers from /viewer/config.json, vector tiles, raster tiles, search,
   popups with Vietnamese labels, coverage at a clicked point. Everything comes from this
   server; the basemap is off unless the server is configured with one. */
(function () {
  "use strict";

  const KEY_STORAGE = "gis-planner-api-key";
  const apiKey = sessionStorage.getItem(KEY_STORAGE) || "";
  const headers = apiKey ? { "X-API-Key": apiKey } : {};
  const STYLES = {
    "admin_units.district.pre2025": { color: "#333", weight: 2.5, fill: false },
    "admin_units.commune.pre2025": { color: "#777", weight: 1, fill: true, fillColor: "#fff",
      fillOpacity: 0.05 },
    "admin_units.commune.2025-07": { color: "#7b3294", weight: 1.5, dashArray: "4 3",
      fill: false },
    villages: { color: "#a6bddb", weight: 0.6, fill: true, fillColor: "#d0d1e6",
      fillOpacity: 0.15 },
    priority_areas: { color: "#e7298a", weight: 1.5, fill: true, fillColor: "#e7298a",
      fillOpacity: 0.15 },
    fibre_routes: { color: "#1b9e77", weight: 1.5 },
    fibre_nodes: { color: "#1b9e77", radius: 3, fill: true, fillOpacity: 0.9, weight: 1 },
    cells: { color: "#444", radius: 3, fill: true, fillColor: "#ffd92f", fillOpacity: 0.9,
      weight: 1 },
  };

  // Coverage under areas, areas under lines, lines under points.
  const Z_ORDER = { raster: 1, MultiPolygon: 2, LineString: 3, Point: 4 };

  function getJSON(url) {
    return fetch(url, { headers: headers }).then(function (response) {
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

  // Layers without a style of their own (analysis products) take the next colour of these.
  const PALETTE = ["#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#6a3d9a", "#b15928",
    "#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6"];
  const assigned = {};

  function styleOf(entry) {
    if (STYLES[entry.id]) { return STYLES[entry.id]; }
    if (!entry.colour && !assigned[entry.id]) {
      assigned[entry.id] = PALETTE[Object.keys(assigned).length % PALETTE.length];
    }
    const colour = entry.colour || assigned[entry.id];
    if (entry.geometry_type === "Point") {
      return { color: "#fff", weight: 1, radius: 5, fill: true, fillColor: colour,
        fillOpacity: 1 };
    }
    return { color: colour, weight: 1.5, fill: entry.geometry_type !== "LineString",
      fillOpacity: 0.1 };
  }

  function swatch(entry) {
    const style = styleOf(entry);
    const span = document.createElement("span");
    const kind = entry.geometry_type === "Point" ? "point"
      : entry.geometry_type === "LineString" ? "line" : "polygon";
    span.className = "swatch " + kind;
    span.style.background = kind === "polygon" ? (style.fill ? style.fillColor || style.color
      : "transparent") : (style.fillColor || style.color);
    span.style.borderColor = style.color;
    return span;
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

  function start(config) {
    document.getElementById("title").textContent = config.title;
    document.getElementById("role").textContent = "Vai trò: " + config.role +
      (config.operator ? " (" + config.operator + ")" : "");
    const map = L.map("map", { preferCanvas: true, zoomControl: true });
    const b = config.bounds;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
    if (config.basemap_url) {
      L.tileLayer(config.basemap_url, { attribution: config.basemap_attribution, maxZoom: 19 })
        .addTo(map);
    }

    const overlays = {};
    config.layers.forEach(function (entry) {
      let layer;
      if (entry.kind === "raster") {
        const rb = entry.bounds;
        // Below the raster's minzoom the server refuses tiles: Leaflet must not ask for them.
        layer = new FetchedTileLayer(entry.tiles, {
          opacity: 0.75, maxZoom: 19, minZoom: entry.minzoom || 0, zIndex: Z_ORDER.raster,
          bounds: rb ? [[rb[1], rb[0]], [rb[3], rb[2]]] : undefined,
        });
      } else {
        const tileLayerName = entry.id.split(".")[0];
        const styles = {};
        const style = styleOf(entry);
        // At low zoom the server sends counts on a grid (point_count): discs whose area grows
        // with the count, so that dense and sparse areas read as such.
        styles[tileLayerName] = entry.geometry_type !== "Point" ? style
          : function (properties) {
            if (!properties.point_count) { return style; }
            return Object.assign({}, style, { fillOpacity: 0.65,
              radius: Math.min(24, 3 + 1.5 * Math.sqrt(properties.point_count)) });
          };
        layer = L.vectorGrid.protobuf(entry.tiles, {
          rendererFactory: L.canvas.tile,
          zIndex: Z_ORDER[entry.geometry_type] || Z_ORDER.MultiPolygon,
          vectorTileLayerStyles: styles,
          // Clicks are answered by the server (/viewer/identify), whatever layer is on top.
          interactive: false,
          maxZoom: 19,
          fetchOptions: { headers: headers },
        });
      }
      overlays[entry.id] = { entry: entry, layer: layer };
      if (entry.visible) { layer.addTo(map); }
    });

    buildSwitcher(config, map, overlays);
    buildLegend(config, map, overlays);
    map.on("overlayadd overlayremove layeradd layerremove", function () {
      buildLegend(config, map, overlays);
    });

    // Leaflet gives clicks on vector tiles to the tiles, not to the map: listen on the map's
    // element, and ignore clicks that ended a drag or landed on a popup or a control.
    const container = map.getContainer();
    let downAt = null;
    container.addEventListener("mousedown", function (ev) { downAt = [ev.clientX, ev.clientY]; });
    container.addEventListener("click", function (ev) {
      if (ev.target.closest(".leaflet-popup, .leaflet-control")) { return; }
      if (downAt && Math.hypot(ev.clientX - downAt[0], ev.clientY - downAt[1]) > 5) { return; }
      showPopup(config, map, overlays, map.mouseEventToLatLng(ev));
    });
    setupSearch(map);
  }

  function buildSwitcher(config, map, overlays) {
    const container = document.getElementById("layers");
    Object.keys(config.groups).forEach(function (group) {
      const fieldset = document.createElement("fieldset");
      fieldset.className = "group";
      fieldset.dataset.group = group;
      const legend = document.createElement("legend");
      legend.textContent = config.groups[group];
      fieldset.appendChild(legend);
      config.layers.filter(function (e) { return e.group === group; }).forEach(function (entry) {
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = entry.visible;
        box.dataset.layer = entry.id;
        box.addEventListener("change", function () {
          const layer = overlays[entry.id].layer;
          if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
        });
        label.appendChild(box);
        if (entry.kind === "vector") { label.appendChild(swatch(entry)); }
        label.appendChild(document.createTextNode(entry.title));
        fieldset.appendChild(label);
      });
      container.appendChild(fieldset);
    });
  }

  const legendCache = {};
  function buildLegend(config, map, overlays) {
    const box = document.getElementById("legend-items");
    box.innerHTML = "";
    Object.keys(overlays).forEach(function (id) {
      const item = overlays[id];
      if (!map.hasLayer(item.layer)) { return; }
      const entry = item.entry;
      if (entry.kind === "vector") {
        const row = document.createElement("div");
        row.className = "row";
        row.dataset.layer = entry.id;
        row.appendChild(swatch(entry));
        row.appendChild(document.createTextNode(config.groups[entry.group] + ": " + entry.title));
        box.appendChild(row);
      } else if (entry.legend) {
        const section = document.createElement("div");
        section.dataset.layer = entry.id;
        box.appendChild(section);
        const fill = function (legend) {
          section.innerHTML = "<h3>" + escapeHtml(legend.title) + " (" +
            escapeHtml(legend.unit) + ")</h3>";
          legend.entries.forEach(function (e) {
            section.insertAdjacentHTML("beforeend", '<div class="row"><span class="swatch" ' +
              'style="background:' + e.colour + '"></span>' + escapeHtml(e.label) + "</div>");
          });
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

  function label(config, value) {
    if (value === null || value === undefined) { return ""; }
    return config.value_labels[value] || value;
  }

  function featureHtml(config, entry, properties) {
    let html = "<h4>" + escapeHtml(config.groups[entry.group] + " · " + entry.title) +
      "</h4><table>";
    Object.keys(entry.popup_fields).forEach(function (field) {
      const value = properties[field];
      if (value === undefined || value === null || value === "") { return; }
      html += "<tr><th>" + escapeHtml(entry.popup_fields[field]) + "</th><td>" +
        escapeHtml(label(config, value)) + "</td></tr>";
    });
    return html + "</table>";
  }

  function coverageHtml(result) {
    let html = "<h4>Vùng phủ tại điểm</h4><table>";
    result.rsrp_by_operator.forEach(function (o) {
      html += "<tr><th>" + escapeHtml(o.operator_name) + "</th><td>" +
        o.rsrp_dbm.toFixed(1) + " dBm</td></tr>";
    });
    result.samples.forEach(function (s) {
      if (s.value === null) { return; }
      html += "<tr><th>" + escapeHtml(s.raster + " · " + s.band) + "</th><td>" +
        (Number.isInteger(s.value) ? String(s.value) : s.value.toFixed(1)) + " " +
        escapeHtml(s.unit || "") + " · " + escapeHtml(s.label || "") + "</td></tr>";
    });
    return html + "</table>";
  }

  function hostsHtml(config, found) {
    let html = "<h4>Vị trí có thể dùng chung cho trạm mới</h4>";
    if (!found.features.length) {
      return html + '<p class="note">Không có vị trí nào trong bán kính tìm kiếm.</p>';
    }
    html += "<table>";
    found.features.forEach(function (f) {
      const p = f.properties;
      const names = p.operators.split(",").map(function (o) { return label(config, o); });
      html += "<tr><th>#" + p.rank + " · " + escapeHtml(names.join(", ")) + "</th><td>" +
        Math.round(p.distance_m) + " m · điểm " + p.score.toFixed(2) + " · tỷ lệ dùng chung " +
        (100 * p.ratio_if_hosted).toFixed(1) + " %</td></tr>";
    });
    return html + "</table>";
  }

  function visibleVectors(map, overlays) {
    return Object.keys(overlays).map(function (id) { return overlays[id]; })
      .filter(function (o) { return o.entry.kind === "vector" && map.hasLayer(o.layer); })
      .map(function (o) { return o.entry; });
  }

  function matches(entry, feature) {
    return entry.source === feature.layer && Object.keys(entry.filters).every(function (k) {
      return String(feature.properties[k]) === entry.filters[k];
    });
  }

  function identify(map, overlays, latlng) {
    const entries = visibleVectors(map, overlays);
    const sources = Array.from(new Set(entries.map(function (e) { return e.source; })));
    if (!sources.length) { return Promise.resolve([]); }
    // Eight screen pixels around the click, in ground metres.
    const metresPerPixel = 40075016.686 * Math.cos(latlng.lat * Math.PI / 180) /
      Math.pow(2, map.getZoom() + 8);
    const query = "lon=" + latlng.lng + "&lat=" + latlng.lat + "&radius_m=" +
      Math.min(5000, 8 * metresPerPixel) + sources.map(function (s) {
        return "&layer=" + encodeURIComponent(s);
      }).join("");
    return getJSON("/viewer/identify?" + query).then(function (result) {
      const shown = [];
      result.features.forEach(function (feature) {
        entries.filter(function (e) { return matches(e, feature); }).forEach(function (e) {
          shown.push({ entry: e, properties: feature.properties });
        });
      });
      // Points first, then lines, then the areas they lie in.
      const rank = { Point: 0, LineString: 1 };
      return shown.sort(function (a, b) {
        return (rank[a.entry.geometry_type] ?? 2) - (rank[b.entry.geometry_type] ?? 2);
      });
    });
  }

  function showPopup(config, map, overlays, latlng) {
    const popup = L.popup({ maxWidth: 380, maxHeight: 420, className: "popup" })
      .setLatLng(latlng);
    const where = latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5);
    const coverage = config.coverage
      ? getJSON("/analysis/coverage/point?lon=" + latlng.lng + "&lat=" + latlng.lat)
        .then(coverageHtml)
        .catch(function (error) { return '<p class="note">' + escapeHtml(error.message) + "</p>"; })
      : Promise.resolve('<p class="note">Chưa tính vùng phủ cho dữ liệu này.</p>');
    const features = identify(map, overlays, latlng).then(function (shown) {
      return shown.map(function (f) { return featureHtml(config, f.entry, f.properties); })
        .join("");
    });
    // An operator planning a site here: the other operators' positions that could host it.
    const hosts = config.operator
      ? getJSON("/analysis/host-candidates?limit=3&lon=" + latlng.lng + "&lat=" + latlng.lat)
        .then(function (found) { return hostsHtml(config, found); })
        .catch(function (error) { return '<p class="note">' + escapeHtml(error.message) + "</p>"; })
      : Promise.resolve("");
    Promise.all([features, coverage, hosts]).then(function (parts) {
      popup.setContent(parts.join("") + '<p class="note">' + where + "</p>").openOn(map);
    }).catch(function (error) {
      popup.setContent('<p class="note">' + escapeHtml(error.message) + "</p>").openOn(map);
    });
  }

  function setupSearch(map) {
    const input = document.getElementById("search-input");
    const list = document.getElementById("search-results");
    let timer = null;
    document.getElementById("search").addEventListener("submit", function (e) {
      e.preventDefault();
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { list.innerHTML = ""; return; }
      timer = setTimeout(function () {
        getJSON("/search?q=" + encodeURIComponent(q)).then(function (result) {
          list.innerHTML = "";
          result.hits.forEach(function (hit) {
            const li = document.createElement("li");
            li.textContent = hit.label;
            li.addEventListener("click", function () {
              const b = hit.bbox;
              map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: 15 });
            });
            list.appendChild(li);
          });
        });
      }, 200);
    });
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

  getJSON("/viewer/config.json").then(start).catch(function (error) {
    document.getElementById("layers").insertAdjacentHTML("beforeend",
      '<p class="note">' + escapeHtml(error.message) + "</p>");
  });
})();
