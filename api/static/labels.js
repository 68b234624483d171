/* Labels by zoom: districts from 10, communes from 12, villages from 14, site codes from 15,
   for the layers shown. The features of the view come from the features API (bbox), the text
   from the layer's label field; a label is left out where it would overlap one already
   placed, in the order districts, communes, sites, villages. */
(function () {
  "use strict";

  //: From which zoom a layer's labels are drawn, and how (CSS class); in drawing priority.
  function rule(entry) {
    if (entry.id === "admin_units.district.pre2025") { return { zoom: 10, cls: "district",
      rank: 0 }; }
    if (entry.id.indexOf("admin_units.commune") === 0) { return { zoom: 12, cls: "commune",
      rank: 1 }; }
    if (entry.source === "sites") { return { zoom: 15, cls: "site", rank: 2 }; }
    if (entry.source === "priority_areas") { return { zoom: 13, cls: "area", rank: 3 }; }
    if (entry.source === "fibre_nodes") { return { zoom: 16, cls: "site", rank: 5 }; }
    return { zoom: 14, cls: "village", rank: 4 };
  }

  // A point inside a ring: the middle of the widest stretch of a horizontal line through it.
  function interiorPoint(ring) {
    let minY = Infinity;
    let maxY = -Infinity;
    ring.forEach(function (p) { minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]); });
    const y = (minY + maxY) / 2;
    const xs = [];
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i];
      const b = ring[j];
      if ((a[1] > y) !== (b[1] > y)) { xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])); }
    }
    xs.sort(function (p, q) { return p - q; });
    let best = null;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      if (!best || xs[k + 1] - xs[k] > best[1] - best[0]) { best = [xs[k], xs[k + 1]]; }
    }
    return best ? [(best[0] + best[1]) / 2, y] : ring[0];
  }

  function ringArea(ring) {
    let sum = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
    }
    return Math.abs(sum / 2);
  }

  function labelPoint(geometry) {
    if (!geometry) { return null; }
    if (geometry.type === "Point") { return geometry.coordinates; }
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : null;
    if (polygons) {
      let largest = polygons[0][0];
      polygons.forEach(function (p) { if (ringArea(p[0]) > ringArea(largest)) { largest = p[0]; } });
      return interiorPoint(largest);
    }
    const line = geometry.type === "LineString" ? geometry.coordinates
      : geometry.type === "MultiLineString" ? geometry.coordinates[0] : null;
    return line ? line[Math.floor(line.length / 2)] : null;
  }

  function init(ctx) {
    const map = ctx.map;
    const group = L.layerGroup().addTo(map);
    const cache = {};  // entry id -> {boxes: [LatLngBounds], labels: Map(id -> label)}
    let timer = null;
    let generation = 0;

    function wanted() {
      const zoom = map.getZoom();
      return Object.keys(ctx.overlays).map(function (id) { return ctx.overlays[id]; })
        .filter(function (o) {
          return o.entry.kind === "vector" && o.entry.label_field && map.hasLayer(o.layer) &&
            zoom >= rule(o.entry).zoom;
        })
        .map(function (o) { return o.entry; })
        .sort(function (a, b) { return rule(a).rank - rule(b).rank; });
    }

    function load(entry, bounds) {
      const held = cache[entry.id] || (cache[entry.id] = { boxes: [], labels: new Map() });
      if (held.boxes.some(function (box) { return box.contains(bounds); })) {
        return Promise.resolve(held);
      }
      const box = bounds.pad(0.3);
      const query = Object.keys(entry.filters).map(function (k) {
        return "&" + encodeURIComponent(k) + "=" + encodeURIComponent(entry.filters[k]);
      }).join("");
      const url = "/collections/" + encodeURIComponent(entry.source) + "/items?limit=1000&bbox=" +
        [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) {
          return v.toFixed(5);
        }).join(",") + query;
      return ctx.getJSON(url).then(function (collection) {
        collection.features.forEach(function (f) {
          const text = f.properties[entry.label_field];
          const point = labelPoint(f.geometry);
          if (text && point) { held.labels.set(f.id, { text: String(text), lon: point[0],
            lat: point[1] }); }
        });
        held.boxes.push(box);
        return held;
      });
    }

    function draw(entries, loaded) {
      group.clearLayers();
      const placed = [];
      const view = map.getBounds();
      entries.forEach(function (entry, i) {
        const cls = rule(entry).cls;
        loaded[i].labels.forEach(function (label) {
          if (!view.contains([label.lat, label.lon])) { return; }
          const p = map.latLngToContainerPoint([label.lat, label.lon]);
          const w = label.text.length * (cls === "district" ? 9 : 6.5) + 6;
          const h = cls === "district" ? 18 : 15;
          const x0 = cls === "site" ? p.x + 8 : p.x - w / 2;
          const rect = [x0, p.y - h / 2, x0 + w, p.y + h / 2];
          if (placed.some(function (r) {
            return rect[0] < r[2] && r[0] < rect[2] && rect[1] < r[3] && r[1] < rect[3];
          })) { return; }
          placed.push(rect);
          const icon = L.divIcon({ className: "gp-label " + cls, html: "",
            iconSize: null, iconAnchor: [0, 0] });
          const marker = L.marker([label.lat, label.lon], { icon: icon, interactive: false,
            keyboard: false });
          group.addLayer(marker);
          marker.getElement().textContent = label.text;
        });
      });
    }

    function refresh() {
      const mine = ++generation;
      const entries = wanted();
      const bounds = map.getBounds();
      Promise.all(entries.map(function (e) { return load(e, bounds); })).then(function (loaded) {
        if (mine === generation) { draw(entries, loaded); }
      }).catch(function () { /* labels are a help, never an error to show */ });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    }
    map.on("moveend zoomend layeradd layerremove", function (ev) {
      if (ev.type.indexOf("layer") === 0 && !(ev.layer instanceof L.GridLayer)) { return; }
      later();
    });
    refresh();
  }

  GP.labels = { init: init, labelPoint: labelPoint };
})();
