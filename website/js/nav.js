// Navigation the views ask for; app.js owns the routes and renders. A programmatic move keeps
// the message that explains it; a person's own navigation (links, back button) clears old ones.

let renderer = () => {};
let keepMessages = false;

export function onNavigate(render) {
  renderer = render;
}

export function go(hash) {
  if (location.hash === hash) {
    renderer();
    return;
  }
  keepMessages = true;
  location.hash = hash;
}

// Whether the navigation now being rendered came from go() (and forget it).
export function fromGo() {
  const kept = keepMessages;
  keepMessages = false;
  return kept;
}
