/* The viewer's own words, Vietnamese first and English, keys in English. The layers' and
   fields' labels come from the server (/viewer/config.json?lang=…), in the same language. */
(function () {
  "use strict";

  const LANG_STORAGE = "gis-planner-lang";
  const STRINGS = {
    vi: {
      search_placeholder: "Tìm xã, thôn, mã trạm…",
      search_label: "Tìm kiếm",
      no_results: "Không tìm thấy kết quả",
      results: "kết quả",
      layers: "Lớp bản đồ",
      legend: "Chú giải",
      tools: "Công cụ",
      panel: "Lớp, chú giải và công cụ",
      key_summary: "Khoá API (nhà mạng, quản trị)",
      key_use: "Dùng khoá",
      key_clear: "Bỏ khoá",
      role: "Vai trò",
      opacity: "Độ trong suốt",
      other_language: "English",
      other_language_title: "Switch to English",
      yes: "Có",
      no: "Không",
      coverage_here: "Vùng phủ tại điểm",
      coverage_missing: "Chưa tính vùng phủ cho dữ liệu này.",
      hosts: "Vị trí có thể dùng chung cho trạm mới",
      hosts_none: "Không có vị trí nào trong bán kính tìm kiếm.",
      score: "điểm",
      ratio_if_hosted: "tỷ lệ dùng chung",
      ftth_yes: "Có cáp quang FTTH",
      ftth_no: "Chưa có cáp quang FTTH",
      position_shared: "Vị trí dùng chung (≥ 2 nhà mạng)",
      position_single: "Vị trí một nhà mạng",
      gap: "Thôn lõm sóng",
      area: "Vùng",
      loses_all_service: "Mất hoàn toàn sóng di động",
      other_operator_only: "Chỉ còn sóng nhà mạng khác",
      loses_voice: "Chỉ còn 4G/5G: thoại cần máy VoLTE",
      keeps_service: "Vẫn còn 2G/3G",
      compliant: "Phù hợp quy hoạch",
      permit_needed: "Cần giấy phép xây dựng",
      forbidden: "Không được phép",
      clusters: "Số trạm (gộp theo ô)",
      measure_distance: "Đo khoảng cách",
      measure_area: "Đo diện tích",
      measure_hint: "Bấm các điểm trên bản đồ; bấm Xong để kết thúc.",
      measure_done: "Xong",
      measure_clear: "Xoá",
      distance: "Khoảng cách",
      area: "Diện tích",
      table: "Bảng thuộc tính",
      table_open: "Mở bảng",
      table_filter: "Lọc (không phân biệt dấu)…",
      table_export: "Xuất CSV",
      table_close: "Đóng",
      table_rows: "dòng",
      table_shown: "hiển thị",
      print: "In / Xuất PDF",
      print_paper: "Khổ giấy",
      print_orientation: "Hướng",
      landscape: "Ngang",
      portrait: "Dọc",
      print_title: "Tiêu đề",
      print_go: "In bản đồ",
      print_date: "Ngày in",
      sources: "Nguồn: gis-planner; ranh giới hành chính, thôn, trạm BTS, cáp quang: dữ liệu " +
        "của Sở và các doanh nghiệp; vùng phủ: mô hình truyền sóng của gis-planner.",
      scale: "Tỷ lệ",
      north: "B",
      planned_site: "Đặt trạm dự kiến",
      link_profile: "Mặt cắt tuyến viba",
      link_pick_a: "Bấm vào trạm đầu A của tuyến.",
      link_pick_b: "Bấm vào trạm đầu B của tuyến.",
      link_no_site: "Không có trạm nào tại điểm bấm; bấm gần một trạm.",
      link_same_site: "Đầu B phải là một trạm khác đầu A.",
      link_wait: "Đang tính mặt cắt…",
      link_close: "Đóng",
      link_terrain: "Địa hình (có độ cong trái đất)",
      link_los: "Tầm nhìn thẳng",
      link_f1: "Miền Fresnel 1",
      link_length: "Chiều dài",
      link_clearance: "Độ thông thoáng nhỏ nhất",
      link_at: "tại",
      link_obstacles: "Vật cản",
      link_loss: "Suy hao nhiễu xạ (Bullington)",
      link_clear: "Thông thoáng",
      link_marginal: "Sát giới hạn",
      link_obstructed: "Bị che chắn",
      planned_hint: "Bấm vào bản đồ để đặt trạm dự kiến.",
      planned_here: "Trạm dự kiến",
      planned_key: "Cần khoá nhà mạng hoặc quản trị để tìm vị trí dùng chung.",
      loading: "Đang tải…",
      whatif: "Vùng phủ tăng thêm",
      whatif_people: "Dân số được phủ thêm",
      whatif_area: "Diện tích phủ thêm",
      whatif_none: "Không có thôn nào mới đạt chỉ tiêu phủ sóng.",
      whatif_village: "Thôn mới được phủ",
      whatif_commune: "Xã",
      whatif_population: "Dân số",
      whatif_note: "Tính với {cells} cell hiện có của nhà mạng, lưới {res} m; vùng tô màu là " +
        "vùng phủ tăng thêm.",
      whatif_wait: "Đang tính vùng phủ tăng thêm…",
    },
    en: {
      search_placeholder: "Find a commune, village, site code…",
      search_label: "Search",
      no_results: "No results",
      results: "results",
      layers: "Map layers",
      legend: "Legend",
      tools: "Tools",
      panel: "Layers, legend and tools",
      key_summary: "API key (operators, admins)",
      key_use: "Use key",
      key_clear: "Forget key",
      role: "Role",
      opacity: "Opacity",
      other_language: "Tiếng Việt",
      other_language_title: "Chuyển sang tiếng Việt",
      yes: "Yes",
      no: "No",
      coverage_here: "Coverage here",
      coverage_missing: "Coverage has not been computed for this data.",
      hosts: "Positions that could host a new site",
      hosts_none: "No position within the search radius.",
      score: "score",
      ratio_if_hosted: "sharing ratio",
      ftth_yes: "With FTTH fibre",
      ftth_no: "Without FTTH fibre",
      position_shared: "Shared position (≥ 2 operators)",
      position_single: "Single-operator position",
      gap: "Villages below target",
      area: "Area",
      loses_all_service: "Loses all mobile service",
      other_operator_only: "Only other operators left",
      loses_voice: "Only 4G/5G left: voice needs a VoLTE phone",
      keeps_service: "Keeps 2G/3G",
      compliant: "Compliant",
      permit_needed: "Needs a building permit",
      forbidden: "Not allowed",
      clusters: "Sites (counted on a grid)",
      measure_distance: "Measure distance",
      measure_area: "Measure area",
      measure_hint: "Click points on the map; press Done to finish.",
      measure_done: "Done",
      measure_clear: "Clear",
      distance: "Distance",
      area: "Area",
      table: "Attribute table",
      table_open: "Open table",
      table_filter: "Filter (accent-insensitive)…",
      table_export: "Export CSV",
      table_close: "Close",
      table_rows: "rows",
      table_shown: "showing",
      print: "Print / PDF",
      print_paper: "Paper",
      print_orientation: "Orientation",
      landscape: "Landscape",
      portrait: "Portrait",
      print_title: "Title",
      print_go: "Print the map",
      print_date: "Printed",
      sources: "Sources: gis-planner; administrative units, villages, sites, fibre: the " +
        "department's and the operators' data; coverage: gis-planner's propagation model.",
      scale: "Scale",
      north: "N",
      planned_site: "Place a planned site",
      link_profile: "Microwave link profile",
      link_pick_a: "Click the site at end A of the hop.",
      link_pick_b: "Click the site at end B of the hop.",
      link_no_site: "No site where you clicked; click near a site.",
      link_same_site: "End B must be another site than end A.",
      link_wait: "Computing the profile…",
      link_close: "Close",
      link_terrain: "Terrain (with earth bulge)",
      link_los: "Line of sight",
      link_f1: "First Fresnel zone",
      link_length: "Length",
      link_clearance: "Smallest clearance",
      link_at: "at",
      link_obstacles: "Obstacles",
      link_loss: "Diffraction loss (Bullington)",
      link_clear: "Clear",
      link_marginal: "Marginal",
      link_obstructed: "Obstructed",
      planned_hint: "Click on the map to place the planned site.",
      planned_here: "Planned site",
      planned_key: "Host candidates need an operator or admin key.",
      loading: "Loading…",
      whatif: "Coverage gained",
      whatif_people: "People gained",
      whatif_area: "Area gained",
      whatif_none: "No village newly reaches the coverage target.",
      whatif_village: "Village newly covered",
      whatif_commune: "Commune",
      whatif_population: "Population",
      whatif_note: "Computed with the operator's {cells} existing cells on a {res} m grid; the " +
        "shaded area is the coverage gained.",
      whatif_wait: "Computing the coverage gained…",
    },
  };
  //: Units that are words, in each language; symbols (m, dBm, MHz, %) stay as they are.
  const UNIT_WORDS = {
    vi: { people: "người", households: "hộ", villages: "thôn", sites: "trạm", operators:
      "doanh nghiệp", cores: "sợi", positions: "vị trí", cells: "cell", deg: "°" },
    en: { deg: "°" },
  };

  const stored = localStorage.getItem(LANG_STORAGE);
  const lang = stored === "en" ? "en" : "vi";

  function t(key) {
    return STRINGS[lang][key] || STRINGS.vi[key] || key;
  }

  function unit(name) {
    if (!name) { return ""; }
    return UNIT_WORDS[lang][name] || name;
  }

  // Accent- and case-insensitive comparison, as the server's search does.
  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function number(value, digits) {
    return Number(value).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB",
      { maximumFractionDigits: digits === undefined ? 2 : digits });
  }

  // Elements carrying data-i18n (text), data-i18n-placeholder, -label (aria-label), -title.
  function translatePage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = t(el.dataset.i18n);
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (el) {
      el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    });
    document.querySelectorAll("[data-i18n-title]").forEach(function (el) {
      el.title = t(el.dataset.i18nTitle);
    });
  }

  function switchLanguage() {
    localStorage.setItem(LANG_STORAGE, lang === "vi" ? "en" : "vi");
    window.location.reload();
  }

  window.GP = Object.assign(window.GP || {}, {
    lang: lang, t: t, unit: unit, fold: fold, number: number,
    translatePage: translatePage, switchLanguage: switchLanguage,
  });
})();
