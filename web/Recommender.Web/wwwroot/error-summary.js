// GOV.UK's error summary: a link to a field moves focus to that field, as well as the page to it, so the next key typed
// or Tab pressed starts there. A browser following the link (a fragment of this page's own address, see PageAddress)
// focuses the field itself, so without script this holds; Blazor follows links within the page itself and only scrolls.
// One listener, on the window, so it outlives enhanced navigation swapping pages in place and the live goals page
// redrawing its summary, and runs after Blazor's own listener on the document has followed the link.
window.addEventListener("click", event => {
  const link = event.target instanceof Element ? event.target.closest(".error-summary a[href*='#']") : null;
  if (!link || link.pathname !== location.pathname || link.search !== location.search) {
    return;
  }
  const field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
  if (!field) {
    return;
  }
  if (!event.defaultPrevented) {
    // Nothing followed the link (Blazor not started): follow it here, so the address names the field as without script.
    event.preventDefault();
    location.hash = link.hash;
  }
  // The question the field answers in view with it, when both fit on screen: the legend of the group the message is
  // about, else the field's own label, else the message itself (a goal card's button has neither).
  const group = field.closest("fieldset[aria-describedby]") ?? field.closest("fieldset");
  const question = group?.querySelector(":scope > legend") ?? document.querySelector(`label[for="${CSS.escape(field.id)}"]`)
    ?? document.getElementById(`${field.id}-error`);
  const fits = question && field.getBoundingClientRect().bottom - question.getBoundingClientRect().top < window.innerHeight;
  (fits ? question : field).scrollIntoView();
  field.focus({ preventScroll: true });
});
