// Renders the AsyncAPI document of this app (fetched from the same origin) with the vendored
// @asyncapi/react-component standalone bundle. The component has no "try it out" or send feature;
// nothing here issues a request other than the schema fetch.
"use strict";

(function () {
  const root = document.getElementById("asyncapi");
  const config = {
    schemaID: "gordon-bus",
    show: {
      sidebar: true,
      info: true,
      servers: true,
      operations: true,
      messages: true,
      messageExamples: true,
      schemas: true,
      errors: true,
    },
    expand: { messageExamples: true }, // the declared examples (schemas/ EXAMPLES), not generated ones
    sidebar: { showServers: "byDefault", showOperations: "byDefault" },
  };

  function fail(error) {
    root.textContent = "Could not render the AsyncAPI document: " + error.message;
    root.setAttribute("data-state", "error");
    console.error(error);
  }

  fetch(root.dataset.schemaUrl, { credentials: "same-origin", cache: "no-cache" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.url + " answered HTTP " + response.status);
      }
      return response.text();
    })
    .then(function (schema) {
      AsyncApiStandalone.render({ schema: schema, config: config }, root);
      root.setAttribute("data-state", "rendered");
    })
    .catch(fail);
})();
