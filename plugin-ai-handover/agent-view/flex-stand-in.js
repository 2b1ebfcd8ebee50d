// What Flex gives a plugin, for the agent view page (py/handover/local/agent_view.py: the browser test's, the
// demo's): the global React and ReactDOM (loaded before), `Twilio.Flex` with `Plugins.init`, the two components the plugin adds to
// (TaskCanvasHeader and TaskInfoPanel, whose added children get the task as Flex gives it to them), `Actions` (what
// is invoked is recorded) and a Manager with the agent's Flex token and the Flex configuration's ui_attributes. Then
// the agent's tasks, drawn as Flex lays a task out: its header, then its Info panel. A harness, not Flex; not bundled.
(function () {
  'use strict';
  const view = window.__AGENT_VIEW__;
  const h = React.createElement;

  function contentOf() {
    const added = [];
    return {
      added,
      add(element, options) {
        added.push({ element, sortOrder: (options && options.sortOrder) || 0 });
      },
    };
  }

  const invoked = [];
  window.__flexActions = invoked;
  const flex = {
    TaskCanvasHeader: { Content: contentOf() },
    TaskInfoPanel: { Content: contentOf() },
    Actions: {
      invokeAction(name, payload) {
        invoked.push({ name, payload });
        return Promise.resolve();
      },
    },
    Plugins: {
      init(Plugin) {
        const plugin = new Plugin();
        Promise.resolve(plugin.init(flex, manager)).then(draw, (error) => {
          window.__pluginError = String(error);
        });
      },
    },
  };
  const manager = {
    store: { getState: () => ({ flex: { session: { ssoTokenPayload: { token: view.token } } } }) },
    user: { token: view.token },
    serviceConfiguration: { ui_attributes: view.uiAttributes },
  };

  function children(content, task) {
    return content.added
      .slice()
      .sort((a, b) => a.sortOrder - b.sortOrder)
      .map(({ element }) => React.cloneElement(element, { task }));
  }

  function TaskView({ task }) {
    const attributes = task.attributes || {};
    return h(
      'article',
      { className: 'task', 'data-task-sid': task.taskSid },
      h(
        'header',
        { className: 'task-header' },
        h('div', null, h('strong', null, attributes.customerName || attributes.name || 'Customer'), h('span', { className: 'channel' }, task.taskChannelUniqueName)),
        h('div', { className: 'header-content' }, children(flex.TaskCanvasHeader.Content, task))
      ),
      h('div', { className: 'tabs' }, h('span', { className: 'tab' }, 'Info')),
      h('div', { className: 'info-panel' }, children(flex.TaskInfoPanel.Content, task))
    );
  }

  function draw() {
    const tasks = view.tasks.map((task) => ({ ...task, dateCreated: new Date(task.dateCreated) }));
    ReactDOM.render(
      h('main', { className: 'flex' }, tasks.map((task) => h(TaskView, { key: task.taskSid, task }))),
      document.getElementById('root'),
      () => {
        window.__drawn = true;
      }
    );
  }

  window.Twilio = { Flex: flex };
})();
