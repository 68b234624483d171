/* How each layer is drawn, from its data: FTTH villages by whether they have fibre, positions
   by whether they are shared, gap villages by technology, sites by operator. A layer's style
   is a Leaflet path style or a function of a feature's properties; its classes are what the
   legend and the layer switcher show. */
(function () {
  "use strict";

  const t = GP.t;

  function truthy(value) {
    return value === true || value === 1 || value === "1" || value === "true";
  }

  const FIXED = {
    "admin_units.district.pre2025": { color: "#333", weight: 2.5, fill: false },
    "admin_units.commune.pre2025": { color: "#777", weight: 1, fill: true, fillColor: "#fff",
      fillOpacity: 0.05 },
    "admin_units.commune.2025-07": { color: "#7b3294", weight: 1.5, dashArray: "4 3",
      fill: false },
    villages: { color: "#8c96c6", weight: 0.6, fill: true, fillColor: "#d0d1e6",
      fillOpacity: 0.15 },
    priority_areas: { color: "#e7298a", weight: 1.5, fill: true, fillColor: "#e7298a",
      fillOpacity: 0.15 },
    fibre_routes: { color: "#1b9e77", weight: 1.5 },
    fibre_nodes: { color: "#1b9e77", radius: 3, fill: true, fillOpacity: 0.9, weight: 1 },
    cells: { color: "#444", radius: 3, fill: true, fillColor: "#ffd92f", fillOpacity: 0.9,
      weight: 1 },
    planning_zones: { color: "#6a51a3", weight: 1.5, dashArray: "6 3", fill: true,
      fillColor: "#9e9ac8", fillOpacity: 0.12 },
    exclusion_areas: { color: "#99000d", weight: 1.5, fill: true, fillColor: "#cb181d",
      fillOpacity: 0.25 },
    military_areas: { color: "#252525", weight: 1.5, fill: true, fillColor: "#525252",
      fillOpacity: 0.3 },
    exclusion_points: { color: "#fff", radius: 5, fill: true, fillColor: "#99000d",
      fillOpacity: 1, weight: 1 },
    host_structures: { color: "#fff", radius: 3, fill: true, fillColor: "#8c6d31",
      fillOpacity: 1, weight: 1 },
    ducts: { color: "#8c6d31", weight: 2, dashArray: "2 2" },
  };

  // Two classes of villages: green with fibre, red without (the ones to plan for).
  const FTTH = {
    yes: { color: "#1a7837", weight: 0.8, fill: true, fillColor: "#1a9850", fillOpacity: 0.55 },
    no: { color: "#a50026", weight: 1.5, fill: true, fillColor: "#d73027", fillOpacity: 0.7 },
  };
  // Shared positions larger and orange, single-operator ones small and blue-grey.
  const POSITIONS = {
    shared: { color: "#7f2704", weight: 1.5, radius: 6, fill: true, fillColor: "#f16913",
      fillOpacity: 1 },
    single: { color: "#fff", weight: 1, radius: 4, fill: true, fillColor: "#6a6a9f",
      fillOpacity: 1 },
  };
  // Gap villages: one colour a technology, so that 5G and 3G plans read apart.
  const GAP_COLOURS = { "2G": "#8c510a", "3G": "#d95f0e", "4G": "#c51b7d", "5G": "#2166ac" };
  const GAP_DASHES = { "2G": "2 3", "3G": "6 3", "4G": null, "5G": null };

  // Villages of a 2G/3G switch-off, by what is left: the most urgent the darkest.
  const SWITCH_OFF = {
    loses_all_service: "#67000d", other_operator_only: "#ef3b2c", loses_voice: "#fd8d3c",
    keeps_service: "#74c476",
  };
  // Sites and host structures against the passive infrastructure plan: green, amber, red.
  const COMPLIANCE = { compliant: "#1a9850", permit_needed: "#fdae61", forbidden: "#d73027" };
  function complianceStyle(colour) {
    return { color: "#fff", weight: 1, radius: 5, fill: true, fillColor: colour,
      fillOpacity: 1 };
  }
  function switchOffStyle(colour) {
    return { color: colour, weight: 1, fill: true, fillColor: colour, fillOpacity: 0.6 };
  }

  // Layers without a style of their own (analysis products) take the next colour of these.
  const PALETTE = ["#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#6a3d9a", "#b15928",
    "#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6"];
  const assigned = {};

  function kindOf(entry) {
    return entry.geometry_type === "Point" ? "point"
      : entry.geometry_type === "LineString" ? "line" : "polygon";
  }

  function defaultStyle(entry) {
    if (!entry.colour && !assigned[entry.id]) {
      assigned[entry.id] = PALETTE[Object.keys(assigned).length % PALETTE.length];
    }
    const colour = entry.colour || assigned[entry.id];
    if (entry.geometry_type === "Point") {
      return { color: "#fff", weight: 1, radius: 5, fill: true, fillColor: colour,
        fillOpacity: 1 };
    }
    return { color: colour, weight: 1.5, fill: entry.geometry_type !== "LineString",
      fillColor: colour, fillOpacity: 0.1 };
  }

  // {style: object or function(properties), classes: [{label, style}]} of a layer.
  function layerStyle(entry) {
    if (entry.source === "ftth_villages") {
      return {
        style: function (p) { return truthy(p.covered) ? FTTH.yes : FTTH.no; },
        classes: [{ label: t("ftth_yes"), style: FTTH.yes }, { label: t("ftth_no"),
          style: FTTH.no }],
      };
    }
    if (entry.source === "positions") {
      return {
        style: function (p) { return truthy(p.shared) ? POSITIONS.shared : POSITIONS.single; },
        classes: [{ label: t("position_shared"), style: POSITIONS.shared },
          { label: t("position_single"), style: POSITIONS.single }],
      };
    }
    if (entry.source === "switchoff_villages") {
      return {
        style: function (p) { return switchOffStyle(SWITCH_OFF[p.status] || "#999"); },
        classes: Object.keys(SWITCH_OFF).map(function (status) {
          return { label: t(status), style: switchOffStyle(SWITCH_OFF[status]) };
        }),
      };
    }
    if (entry.source === "site_compliance" || entry.source === "passive_hosts") {
      return {
        style: function (p) { return complianceStyle(COMPLIANCE[p.status] || "#999"); },
        classes: Object.keys(COMPLIANCE).map(function (status) {
          return { label: t(status), style: complianceStyle(COMPLIANCE[status]) };
        }),
      };
    }
    if (entry.source === "coverage_gaps") {
      const tech = entry.filters.technology;
      const colour = GAP_COLOURS[tech] || "#666";
      const style = { color: colour, weight: 2, dashArray: GAP_DASHES[tech] || null,
        fill: true, fillColor: colour, fillOpacity: 0.45 };
      return { style: style, classes: [{ label: t("gap") + " " + tech, style: style }] };
    }
    const style = FIXED[entry.id] || defaultStyle(entry);
    if (entry.geometry_type !== "Point") { return { style: style, classes: [] }; }
    // At low zoom the server sends counts on a grid (point_count): discs whose area grows
    // with the count, so that dense and sparse areas read as such.
    return {
      style: function (p) {
        if (!p.point_count) { return style; }
        return Object.assign({}, style, { fillOpacity: 0.65,
          radius: Math.min(24, 3 + 1.5 * Math.sqrt(p.point_count)) });
      },
      classes: [],
    };
  }

  // The style as an object, for swatches: the first class's when the style is a function.
  function swatchStyle(entry) {
    const found = layerStyle(entry);
    return typeof found.style === "function" ? found.classes.length ? found.classes[0].style
      : found.style({}) : found.style;
  }

  function swatch(entry, style) {
    style = style || swatchStyle(entry);
    const span = document.createElement("span");
    const kind = kindOf(entry);
    span.className = "swatch " + kind;
    span.style.background = kind === "polygon" ? (style.fill ? style.fillColor || style.color
      : "transparent") : (style.fillColor || style.color);
    span.style.borderColor = style.color;
    if (style.dashArray) { span.style.borderStyle = "dashed"; }
    return span;
  }

  GP.styles = { layerStyle: layerStyle, swatch: swatch, truthy: truthy, kindOf: kindOf };
})();
